import type { JsonValue } from '../services/ports/query-engine.js';

/** A plain aligned text table, numbers right-aligned, for the answer printed at the end of a run. */
export function renderTable(columns: readonly string[], rows: readonly Record<string, JsonValue>[]): string {
  const cell = (value: JsonValue | undefined): string => {
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'number')
      return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(3);
    return printable(String(value));
  };
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const numeric = columns.map((c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/**
 * Characters a terminal would act on rather than show: control characters (a line break cuts the table's row, an
 * escape sequence drives the terminal) and the invisible marks that reorder or hide text around them
 * (bidirectional controls, a byte-order mark). Values come from the API (a vehicle type is kept as it was sent,
 * docs/decisions/0089); the table shows these as escapes, `--json` and the stored results keep the text as it is.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(
    UNPRINTABLE,
    (char) => NAMED_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
