import { createRequire } from 'node:module';
import { TextDecoder } from 'node:util';

/**
 * @duckdb/node-api (1.5) turns every VARCHAR into a JavaScript string with one shared `new TextDecoder()`, whose
 * default drops a byte-order mark at the start of what it decodes: a value that starts with U+FEFF reads back
 * without it, although DuckDB stores and compares it whole. Text may legally start with U+FEFF, and the warehouse
 * keeps vehicle types exactly as the API sent them (docs/decisions/0089). The package reads the decoder from its
 * module's exports at each call, so one that keeps the mark, set there once, fixes every reader of the process (the
 * local engine's results and the cloud twin's Athena). Should a release move the decoder, nothing is replaced and
 * tests/integration/duckdb/partition-values.test.ts fails on the type that starts with the mark.
 */
interface StringAccessors {
  textDecoder: TextDecoder;
}

function isStringAccessors(value: unknown): value is StringAccessors {
  if (typeof value !== 'object' || value === null || !('textDecoder' in value)) return false;
  const decoder: unknown = value.textDecoder;
  return typeof decoder === 'object' && decoder !== null && 'decode' in decoder && 'ignoreBOM' in decoder;
}

let kept = false;

/** Makes the DuckDB client keep a leading U+FEFF of text values; idempotent. True when it could. */
export function keepLeadingByteOrderMarks(): boolean {
  if (kept) return true;
  const accessors: unknown = createRequire(import.meta.url)('@duckdb/node-api/lib/vectors/dataAccessors.js');
  if (!isStringAccessors(accessors)) return false;
  if (!accessors.textDecoder.ignoreBOM) accessors.textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
  kept = true;
  return true;
}
