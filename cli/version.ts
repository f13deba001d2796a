import { readFileSync } from 'node:fs';
import * as z from 'zod';

const PACKAGE_JSON = new URL('../package.json', import.meta.url);

/** `fleet-etl 0.1.0`: the name and version package.json gives, the one place a release sets them. */
export function etlVersion(): string {
  const { name, version } = z
    .object({ name: z.string(), version: z.string() })
    .parse(JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')));
  return `${name} ${version}`;
}
