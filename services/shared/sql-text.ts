/**
 * Text-level handling of the Athena SQL files in queries/: splitting a file into statements and filling its
 * `${placeholders}`. Nothing here knows a dialect beyond Trino's and Hive's lexical rules (quotes and
 * comments), so the same functions serve Athena in the cloud and the DuckDB bridge locally.
 */
import * as z from 'zod';
import { RunIdSchema } from '../../events/index.js';
import { TerminalError } from './errors.js';
import { parseDay } from './run-identity.js';

/** The SQL text cannot be used as written; retrying cannot help. */
export class SqlTextError extends TerminalError {
  override readonly name: string = 'SqlTextError';
}

export type SqlSegmentKind = 'code' | 'string' | 'identifier' | 'comment';

/** A run of characters of one lexical kind; `start` and `end` are offsets into the scanned text. */
export interface SqlSegment {
  kind: SqlSegmentKind;
  text: string;
  start: number;
  end: number;
}

/**
 * Quote characters and how a quoted run of each ends. A doubled closing quote is an escaped quote in Trino
 * (`'it''s'`, `"a""b"`) and Hive (backticks), so it does not end the run.
 */
const QUOTES: Readonly<Record<string, SqlSegmentKind>> = {
  "'": 'string',
  '"': 'identifier',
  '`': 'identifier',
};

/** Cuts SQL text into code, quoted strings, quoted identifiers and comments. */
export function scanSql(text: string): SqlSegment[] {
  const segments: SqlSegment[] = [];
  let codeStart = 0;
  let at = 0;
  const flushCode = (end: number) => {
    if (end > codeStart) {
      segments.push({ kind: 'code', text: text.slice(codeStart, end), start: codeStart, end });
    }
  };
  while (at < text.length) {
    const char = text.charAt(at);
    const quotedKind = QUOTES[char];
    let end: number | undefined;
    let kind: SqlSegmentKind | undefined;
    if (quotedKind) {
      end = endOfQuoted(text, at, char);
      kind = quotedKind;
    } else if (text.startsWith('--', at)) {
      const newline = text.indexOf('\n', at);
      end = newline === -1 ? text.length : newline;
      kind = 'comment';
    } else if (text.startsWith('/*', at)) {
      const close = text.indexOf('*/', at + 2);
      if (close === -1) {
        throw new SqlTextError(`unterminated /* comment starting at ${position(text, at)}`);
      }
      end = close + 2;
      kind = 'comment';
    }
    if (end === undefined || kind === undefined) {
      at += 1;
      continue;
    }
    flushCode(at);
    segments.push({ kind, text: text.slice(at, end), start: at, end });
    at = end;
    codeStart = end;
  }
  flushCode(text.length);
  return segments;
}

function endOfQuoted(text: string, start: number, quote: string): number {
  let at = start + 1;
  for (;;) {
    const close = text.indexOf(quote, at);
    if (close === -1) {
      const what = quote === "'" ? 'string literal' : 'quoted identifier';
      throw new SqlTextError(`unterminated ${what} starting at ${position(text, start)}`);
    }
    if (text.charAt(close + 1) !== quote) {
      return close + 1;
    }
    at = close + 2;
  }
}

function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/**
 * Splits a file into statements at the `;` that are outside quotes and comments. Comments are removed:
 * Athena's Hive DDL parser rejects DDL that begins with a block comment ("ParseException line 1:0",
 * https://github.com/getredash/redash/issues/2399), and the bridge then only has to read code. A block
 * comment leaves its line breaks behind so that line numbers in engine errors still point near the source.
 * Statements holding nothing but whitespace are dropped.
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  const finish = () => {
    const statement = current.trim();
    if (statement.length > 0) {
      statements.push(statement);
    }
    current = '';
  };
  for (const segment of scanSql(text)) {
    if (segment.kind === 'comment') {
      current += segment.text.startsWith('/*') ? segment.text.replace(/[^\n]/g, '').padEnd(1, ' ') : '';
      continue;
    }
    if (segment.kind !== 'code') {
      current += segment.text;
      continue;
    }
    const pieces = segment.text.split(';');
    pieces.forEach((piece, index) => {
      if (index > 0) {
        finish();
      }
      current += piece;
    });
  }
  finish();
  return statements;
}

/**
 * Characters a placeholder value may never contain, whatever the caller's schema allowed: each could end a
 * literal or an identifier, escape a quote, or start a new statement or line. Defence in depth behind the
 * zod schemas. `--` is allowed: values sit inside quotes or are names without `-`, and paths may hold it.
 */
const FORBIDDEN_IN_VALUES: readonly { pattern: RegExp; label: string }[] = [
  { pattern: /'/, label: 'a single quote' },
  { pattern: /"/, label: 'a double quote' },
  { pattern: /`/, label: 'a backtick' },
  { pattern: /;/, label: 'a semicolon' },
  { pattern: /\\/, label: 'a backslash' },
  { pattern: /[\r\n]/, label: 'a line break' },
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  { pattern: /[\u0000-\u001f\u007f]/, label: 'a control character' },
];

/**
 * `${name}` is replaced by its value; `$${name}` is an escape that renders as the literal `${name}`, which
 * Athena itself needs in `storage.location.template` of partition projection. Names are lower-case words.
 */
const PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;
const PLACEHOLDER_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Fills the `${placeholders}` of SQL text. Values are validated by the caller's schema (see
 * SqlPlaceholderValuesSchema); values that could still break out of a literal are refused here too. Every
 * placeholder without a value is named in one error, so a misspelt name is found in one run. Rendering a
 * whole file renders its comments too: a comment may only mention placeholders that have values, or `$${x}`.
 */
export function renderPlaceholders(sql: string, values: Readonly<Record<string, string>>): string {
  const missing = new Set<string>();
  const rendered = sql.replace(PLACEHOLDER, (whole, escaped: string, name: string) => {
    if (!PLACEHOLDER_NAME.test(name)) {
      throw new SqlTextError(`malformed placeholder ${whole}: names are lower-case letters, digits and _`);
    }
    if (escaped === '$') {
      return `\${${name}}`;
    }
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      missing.add(name);
      return whole;
    }
    assertSafeValue(name, value);
    return value;
  });
  if (missing.size > 0) {
    const names = [...missing].map((name) => `\${${name}}`).join(', ');
    throw new SqlTextError(`no value for placeholder(s) ${names}; known: ${Object.keys(values).join(', ')}`);
  }
  return rendered;
}

function assertSafeValue(name: string, value: string): void {
  const found = FORBIDDEN_IN_VALUES.find(({ pattern }) => pattern.test(value));
  if (found) {
    throw new SqlTextError(`value of \${${name}} contains ${found.label}; refusing to put it into SQL`);
  }
}

/**
 * A lake location as SQL sees it: `s3://bucket/prefix` in AWS, `file:///abs/path` locally, never with a
 * trailing slash (the SQL files append `/table/`) and never with `.` or `..` segments.
 */
const SqlLocationSchema = z
  .string()
  .regex(
    /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9._~%+=-]+)*|file:\/\/(\/[A-Za-z0-9._~%+=-]+)+)$/,
    'location: s3://bucket/prefix or file:///absolute/path, URL-safe characters, no trailing slash',
  )
  .refine((url) => !/\/\.{1,2}(\/|$)/.test(url), { message: 'location: no . or .. segments' });

/** The values every file in queries/ may use. */
export const SqlPlaceholderValuesSchema = z.object({
  /** A Glue database (Athena) or DuckDB schema name. */
  database: z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, 'database: lower-case letters, digits and _'),
  raw_location: SqlLocationSchema,
  warehouse_location: SqlLocationSchema,
  run_id: RunIdSchema,
  run_date: z.string().refine(isCalendarDay, { message: 'run_date: a calendar date, YYYY-MM-DD' }),
});

function isCalendarDay(value: string): boolean {
  try {
    parseDay(value);
    return true;
  } catch {
    return false;
  }
}
