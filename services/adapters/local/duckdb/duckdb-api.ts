import { createRequire } from 'node:module';
import type * as DuckDbApi from '@duckdb/node-api';

/**
 * @duckdb/node-api, required rather than imported. It is CommonJS whose index re-exports about thirty files: an
 * `import` of it has Node.js scan each of them for its export names (cjs-module-lexer) before the first line runs,
 * about 0.1 s of CPU at every `etl` command that opens the warehouse, where `require` only runs them
 * (docs/decisions/0903). Types come from the package as before.
 */
export const duckDb: typeof DuckDbApi = createRequire(import.meta.url)('@duckdb/node-api');
