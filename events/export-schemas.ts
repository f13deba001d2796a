/**
 * `npm run schemas`: writes each event's JSON Schema to events/schemas/<DetailType>.json, the contracts other
 * teams consume. It refuses to overwrite a published schema with a breaking change (see
 * events/schema-compatibility.ts) unless run with `--allow-breaking`; `--check` only reports whether the files
 * are current (exit 1 when not).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { detailJsonSchemas } from './json-schema.js';
import { compareSchemas } from './schema-compatibility.js';

const BIOME = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));

export const SCHEMAS_DIR = fileURLToPath(new URL('./schemas/', import.meta.url));

/** What a published file holds: the schema with an id, a title and a description for readers. */
export function publishedSchema(detailType: string, schema: unknown): Record<string, unknown> {
  return {
    $id: `urn:fleet-etl:event:${detailType}:detail`,
    title: detailType,
    description: `The detail of fleet-etl's ${detailType} event (source "fleet-etl", detail-type "${detailType}").`,
    ...(typeof schema === 'object' && schema !== null ? schema : {}),
  };
}

export function publishedSchemas(dir = SCHEMAS_DIR): Record<string, unknown> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  return Object.fromEntries(
    files.map((file) => [
      file.replace(/\.json$/, ''),
      JSON.parse(readFileSync(path.join(dir, file), 'utf8')),
    ]),
  );
}

function main(argv: readonly string[]): number {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      check: { type: 'boolean', default: false },
      'allow-breaking': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const current = detailJsonSchemas();
  const published = publishedSchemas();
  let problems = 0;
  const written: string[] = [];
  for (const [detailType, schema] of Object.entries(current)) {
    const file = path.join(SCHEMAS_DIR, `${detailType}.json`);
    const next = publishedSchema(detailType, schema);
    const before = published[detailType];
    const changes = before === undefined ? [] : compareSchemas(before, next, detailType);
    const breaking = changes.filter((c) => c.breaking);
    for (const change of changes) {
      process.stdout.write(
        `${change.breaking ? 'BREAKING' : 'compatible'} ${change.path}: ${change.description}\n`,
      );
    }
    const upToDate = before !== undefined && isDeepStrictEqual(before, next);
    if (upToDate) continue;
    if (values.check) {
      process.stdout.write(`${path.relative(process.cwd(), file)} is out of date\n`);
      problems += 1;
    } else if (breaking.length > 0 && !values['allow-breaking']) {
      process.stdout.write(
        `refusing to publish ${detailType}: ${breaking.length} breaking change(s). Publish a new detail-type or ` +
          'schema version instead, or pass --allow-breaking once every consumer has moved.\n',
      );
      problems += 1;
    } else {
      writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
      written.push(file);
      process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    }
  }
  // The repository's formatter owns the files' layout, so `npm run lint` stays clean after an export.
  if (written.length > 0) execFileSync(BIOME, ['format', '--write', ...written], { stdio: 'ignore' });
  for (const stale of Object.keys(published).filter((name) => !(name in current))) {
    process.stdout.write(
      `events/schemas/${stale}.json has no event any more: removing a detail-type is breaking\n`,
    );
    problems += 1;
  }
  return problems === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
