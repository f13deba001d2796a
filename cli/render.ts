import type { JsonValue } from '../services/ports/query-engine.js';

/** A plain aligned text table, numbers right-aligned, for the answer printed at the end of a run. */
export function renderTable(columns: readonly string[], rows: readonly Record<string, JsonValue>[]): string {
  const cell = (value: JsonValue | undefined): string => {
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'number')
      return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(3);
    return String(value);
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
