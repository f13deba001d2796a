import type { StoredResultSet } from './report-model.js';

type Cell = string | number | boolean | null | undefined;

/**
 * One result set as CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line
 * break). A text cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
 * apostrophe, as OWASP advises for files opened in Excel; numbers are written as numbers.
 */
export function toCsv({ columns, rows }: StoredResultSet): string {
  const lines = [columns.map((c) => field(c)), ...rows.map((row) => columns.map((c) => field(row[c])))];
  return `${lines.map((cells) => cells.join(',')).join('\r\n')}\r\n`;
}

function field(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
