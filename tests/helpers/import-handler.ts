import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Imports a Lambda bundle in a fresh Node.js process with only `env` (and PATH) set, as Lambda starts it, and
 * prints the type of its `handler` export. Rejects with the child's stderr when the import throws.
 */
export const importHandler = (file: string, env: Record<string, string>) =>
  run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(file)}); console.log(typeof m.handler);`,
    ],
    { env: { PATH: process.env.PATH ?? '', ...env } },
  );
