import { isUtf8 } from 'node:buffer';
import type { RejectedRow } from '../../ports/fleet-source.js';
import type { Checks, InvalidRows, JsonPath, PageShape } from '../../source-config/index.js';
import { parseJsonText } from './json-text.js';

/**
 * Reads a page body as it streams in and turns its rows into NDJSON, without ever holding the page whole.
 *
 * The body is split into two parts: the envelope (everything but the contents of the rows array) and the rows.
 * A small structural scanner follows strings and brackets to find where the rows array is and where each row ends;
 * the envelope's text is kept (it is small) and parsed with JSON.parse once the body has ended, and complete rows
 * are parsed with JSON.parse in batches as they arrive. The original text is exactly the envelope with the rows
 * put back, so it is valid JSON if and only if the envelope and every row are: the scanner needs no grammar of
 * its own, and nothing it is fooled by can be accepted.
 *
 * Nothing here throws on any input: every outcome is a value, and a failure says which kind it is, so the caller
 * can tell a body cut short (worth asking again) from one that breaks the contract (not worth it).
 */

export type PageFailureKind =
  /** The body ended before its JSON did: a cut connection, worth retrying. */
  | 'truncated'
  /** Not JSON, or not UTF-8. */
  | 'malformed'
  /**
   * Markup (it starts with `<`): a proxy's error page or a login wall under a JSON content type, not the API
   * speaking. Worth asking again, as an HTML page under its own content type is.
   */
  | 'markup'
  /** JSON, but not the envelope the configuration describes. */
  | 'envelope'
  /** More rows than the page size, a row or an envelope too large to be a page's, more pages than a night may plan. */
  | 'oversized'
  /** `total_pages` is not the one the page was planned with: the offset slices moved since planning. */
  | 'replanned'
  /** The API answered another page than the one asked for. */
  | 'wrong-page'
  /**
   * The page's rows do not fit its own `total_pages`: rows on a page past the last, or a page before the last with
   * fewer rows than asked (offset slices would then skip rows: the API may cap its page size below ours).
   */
  | 'inconsistent'
  /** Too many rows break the row schema (or one does, when invalid rows fail the page). */
  | 'invalid-rows'
  /** Rows created outside the window the API was asked for: it does not apply the date filters (checks). */
  | 'outside-window';

export interface PageFailure {
  kind: PageFailureKind;
  /** Says what is wrong and where (row index, field path); never quotes values. */
  message: string;
}

/**
 * `flat`: the row is a non-empty object whose values are all strings, numbers, booleans or null (the canonical
 * rows are). Flat rows are serialised a batch at a time, which is markedly cheaper than one by one.
 *
 * `verbatimKeys`: the row has exactly the parsed input's keys and values (nothing stripped, renamed or
 * normalised), and this many keys. The API's own text for the row is then stored as it came, saving its
 * serialisation, once the parser has checked that the text holds no more keys than that (a duplicated key, which
 * JSON.parse silently collapses) and no line break.
 */
export type RowVerdict =
  | { ok: true; row: unknown; flat?: boolean; verbatimKeys?: number }
  | { ok: false; reason: string; outsideWindow?: false }
  /**
   * A valid row created outside the night's window: dropped and counted, neither stored nor quarantined.
   * `outsideAsked` is its `created_at` when it is outside even the window the API was asked for (askedWindow).
   */
  | { ok: false; outsideWindow: true; outsideAsked?: string };
/**
 * Validates one parsed row and returns what is stored; must not throw. With `canonicalText`, rows written in the
 * check's canonical form are checked on the page's text instead, and never parsed.
 */
export type RowCheck = ((raw: unknown) => RowVerdict) & { canonicalText?: CanonicalRows };

/**
 * A row check's fast path on the page's text (services/shared/row-fast-path.ts). `end(text, at)` is the index just
 * after the row starting at `at` (its `}`, the row's only one) when that row is valid JSON, in the form the check
 * stores verbatim, and passes the check, else -1: the row then takes the general path, which parses it, checks it
 * and names what is wrong. `placement(text, end)` says where such a row's `created_at` falls, `createdAt(text, end)`
 * what it is.
 */
export interface CanonicalRows {
  end(text: string, at: number): number;
  placement(text: string, end: number): RowPlacement;
  createdAt(text: string, end: number): string;
  /** Keys of a canonical row. */
  keys: number;
}

/** In the night's window; outside it but inside the window the API was asked for; outside that too. */
export const IN_WINDOW = 0;
export const OUTSIDE_WINDOW = 1;
export const OUTSIDE_ASKED = 2;
export type RowPlacement = typeof IN_WINDOW | typeof OUTSIDE_WINDOW | typeof OUTSIDE_ASKED;

/**
 * How a row of a batch was read: by the general path, or on its text by CanonicalRows (kept, outside the window, or
 * outside the window asked for).
 */
const GENERAL = 0;
const CANONICAL_KEPT = 1;
const CANONICAL_OUTSIDE = 2;
const CANONICAL_OUTSIDE_ASKED = 3;
type RowPath =
  | typeof GENERAL
  | typeof CANONICAL_KEPT
  | typeof CANONICAL_OUTSIDE
  | typeof CANONICAL_OUTSIDE_ASKED;
const CANONICAL_PATH_OF: Record<RowPlacement, RowPath> = {
  [IN_WINDOW]: CANONICAL_KEPT,
  [OUTSIDE_WINDOW]: CANONICAL_OUTSIDE,
  [OUTSIDE_ASKED]: CANONICAL_OUTSIDE_ASKED,
};

/**
 * A row cut by the end of a chunk is scanned again from its start with the next chunk, so that a canonical row
 * can take the fast path; a longer one (no canonical row is) goes on from where the scan stopped instead.
 */
const RESCAN_ROW_CHARS = 4096;

export interface PageParserOptions {
  shape: PageShape;
  page: number;
  pageSize: number;
  /** Without it, rows are parsed (the body must be valid) but neither checked nor emitted: planning needs only total_pages. */
  checkRow?: RowCheck;
  invalidRows: InvalidRows;
  /** `total_pages` as the plan knew it (PageRequest.expectedTotalPages): another answer fails the page. */
  expectedTotalPages?: number;
  /** The most pages a night may plan (the dataset's `maxPages`): a larger `total_pages` fails the page. */
  maxPages?: number;
  /**
   * The most rows a night may plan (the dataset's `maxRows`): more rows by the API's count, or by `total_pages` ×
   * the page size when it counts pages, fail the page.
   */
  maxRows?: number;
  /**
   * Rows created outside the window the API was asked for (RowVerdict's `outsideAsked`): with `fail`, any fails the
   * page once it has been read, naming how many, one of them, the window and the filters' parameter names (`filters`);
   * with `warn`, or without this, they are left out and counted as outside the window.
   */
  rowsOutsideAsked?: {
    action: Checks['rowsOutsideWindow'];
    asked: { from: string; to: string };
    filters: string;
  };
  /**
   * Without `checkRow` (planning): a parsed row's `created_at` when it is outside the window asked for, else
   * undefined. Rows are otherwise neither checked nor emitted; this lets page 1 fail the night's plan.
   */
  outsideAskedOf?: (raw: unknown) => string | undefined;
  /**
   * Guards against hostile or broken bodies, which would otherwise be held in memory: the envelope's size, and
   * how long a row may be while the parser waits for its end. The defaults (1 Mi characters) are far above a row's.
   */
  maxEnvelopeChars?: number;
  maxRowChars?: number;
}

/** NDJSON as bytes, ready for the store: the verbatim path never makes a string of it. */
export type ParserStep = { ok: true; ndjson: Buffer } | { ok: false; failure: PageFailure };

export interface ParsedPage {
  ok: true;
  /** NDJSON not yet returned by `push`. */
  ndjson: Buffer;
  totalPages: number;
  rows: number;
  rejected: RejectedRow[];
  /** Valid rows left out for being created outside the window (RowVerdict). */
  outsideWindow: number;
}

export type ParserEnd = ParsedPage | { ok: false; failure: PageFailure };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LESS_THAN = 0x3c;

/** JSON's white space (RFC 8259): space, tab, line feed, carriage return. */
function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

const EMPTY = Buffer.alloc(0);

/**
 * Whether a page's row count contradicts its `total_pages`, as an API that ignores `page` or the page size, or
 * counts wrong, answers: pages are offset slices of `pageSize` rows, so every page before the last is full and no
 * page after it has rows. Taken on trust, such answers store rows twice or never (`total_pages: 0` with rows on
 * page 1 would store nothing and succeed).
 */
function pageInconsistency(
  page: number,
  totalPages: number,
  pageSize: number,
  rows: number,
): string | undefined {
  if (page > totalPages && rows > 0) {
    return `total_pages is ${totalPages}, yet page ${page} has ${rows} row(s)`;
  }
  if (page < totalPages && rows < pageSize) {
    return (
      `page ${page} of ${totalPages} has ${rows} row(s), fewer than the ${pageSize} asked: only the last page ` +
      "may be short (if the API caps its page size below that, set the dataset's pageSize to its maximum)"
    );
  }
  return undefined;
}

/** With a count of items, the last page's rows are known exactly: what the pages before it did not hold. */
function lastPageInconsistency(
  page: number,
  totalPages: number,
  pageSize: number,
  totalItems: number,
  rows: number,
  totalName: string,
): string | undefined {
  if (page !== totalPages) return undefined;
  const expected = totalItems - (totalPages - 1) * pageSize;
  return rows === expected
    ? undefined
    : `${totalName} is ${totalItems} items: page ${page} of ${totalPages} should have ${expected} row(s), it has ${rows}`;
}
const NEWLINE = 0x0a;

const DEFAULT_MAX_ENVELOPE_CHARS = 1024 * 1024;
const DEFAULT_MAX_ROW_CHARS = 1024 * 1024;
/** A rejected row is kept for a person to read, not to be replayed: a few kilobytes say enough. */
const REJECTED_ROW_CHARS = 2048;

interface Frame {
  isObject: boolean;
  /** The key of the member being read, once its name has been seen. */
  key: string | undefined;
  expectingKey: boolean;
}

export class PageBodyParser {
  private readonly decoder = new Utf8Decoder();
  private readonly maxEnvelopeChars: number;
  private readonly maxRowChars: number;
  private failure: PageFailure | undefined;
  private ended = false;
  /** Whether the body's first character other than white space has been seen. */
  private started = false;

  // Envelope state.
  private inRows = false;
  private rowsArrays = 0;
  private envelope: string[] = [];
  private envelopeChars = 0;
  private readonly stack: Frame[] = [];
  private inString = false;
  private escaped = false;
  private stringIsKey = false;
  private keyText = '';

  // Rows state: `pending` holds the text from the start of the first row not yet parsed.
  private pending = '';
  private scanFrom = 0;
  private depth = 0;
  private rowStringOpen = false;
  /** Keys (colons at the row's own depth) seen so far in the row being scanned. */
  private rowKeys = 0;
  private rowsSeen = 0;
  private emittedRows = 0;
  private outsideWindow = 0;
  private outsideAsked = 0;
  private outsideAskedExample: string | undefined;
  private readonly rejected: RejectedRow[] = [];

  constructor(private readonly options: PageParserOptions) {
    this.maxEnvelopeChars = options.maxEnvelopeChars ?? DEFAULT_MAX_ENVELOPE_CHARS;
    this.maxRowChars = options.maxRowChars ?? DEFAULT_MAX_ROW_CHARS;
  }

  /** Takes the next piece of the body (bytes, or text for callers that already decoded it). */
  push(chunk: Uint8Array | string): ParserStep {
    if (this.failure) return { ok: false, failure: this.failure };
    if (this.ended) return this.fail('malformed', 'data after the end of the body');
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk);
    if (text === undefined) return this.fail('malformed', 'the body is not UTF-8');
    const out: Buffer[] = [];
    this.consume(text, out);
    if (this.failure) return { ok: false, failure: this.failure };
    return { ok: true, ndjson: out.length === 1 ? (out[0] ?? EMPTY) : Buffer.concat(out) };
  }

  /** The body has ended: checks it was whole and reads the envelope. */
  end(): ParserEnd {
    if (this.failure) return { ok: false, failure: this.failure };
    this.ended = true;
    if (this.decoder.pending) {
      // A multi-byte character cut in two: the body stopped mid-character.
      return this.fail('truncated', 'the body ends in the middle of a character');
    }
    if (this.inRows) {
      return this.fail(
        'truncated',
        `the body ends inside the rows array, after ${this.rowsSeen} complete row(s)`,
      );
    }
    const envelopeText = this.envelope.join('');
    if (envelopeText.trim() === '') return this.fail('truncated', 'the body is empty');
    if (this.inString || this.stack.length > 0) {
      return this.fail('truncated', 'the body ends before its JSON does');
    }
    let envelope: unknown;
    try {
      envelope = parseJsonText(envelopeText);
    } catch {
      return this.fail('malformed', 'the body is not valid JSON');
    }
    const { shape, page, pageSize } = this.options;
    if (!isObject(envelope)) return this.fail('envelope', 'the body is not a JSON object');
    if (this.rowsArrays === 0) {
      const found = valueAt(envelope, shape.rowsPath);
      return this.fail(
        'envelope',
        `${pathText(shape.rowsPath)} ${found === undefined ? 'is missing' : 'is not an array'}`,
      );
    }
    const total = valueAt(envelope, shape.total.path);
    if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) {
      return this.fail(
        'envelope',
        `${pathText(shape.total.path)} ${total === undefined ? 'is missing' : 'must be a whole number ≥ 0'}`,
      );
    }
    const totalPages = shape.total.counts === 'pages' ? total : Math.ceil(total / pageSize);
    if (shape.pagePath !== undefined) {
      const echoed = valueAt(envelope, shape.pagePath);
      if (echoed !== undefined && echoed !== page) {
        return this.fail('wrong-page', `the API answered page ${String(echoed).slice(0, 20)} instead`);
      }
    }
    const { expectedTotalPages, maxPages, maxRows } = this.options;
    if (maxPages !== undefined && totalPages > maxPages) {
      return this.fail(
        'oversized',
        `total_pages is ${totalPages}, more than the ${maxPages} pages a night may plan (maxPages in the source ` +
          'configuration; raise it if the API is right)',
      );
    }
    // A count of items is the rows themselves; pages are counted full, the last one included (at most pageSize - 1
    // rows more than the API holds).
    const plannedRows = shape.total.counts === 'items' ? total : totalPages * pageSize;
    if (maxRows !== undefined && plannedRows > maxRows) {
      const counted =
        shape.total.counts === 'items'
          ? `${pathText(shape.total.path)} is ${count(total)} rows`
          : `total_pages ${count(totalPages)} × ${count(pageSize)} rows a page is up to ${count(plannedRows)} rows`;
      return this.fail(
        'oversized',
        `${counted}, more than the ${count(maxRows)} rows a night may plan (maxRows in the source configuration; ` +
          'raise it if the API is right)',
      );
    }
    if (expectedTotalPages !== undefined && totalPages !== expectedTotalPages) {
      return this.fail(
        'replanned',
        `total_pages changed since planning: the page says ${totalPages}, the plan has ${expectedTotalPages}; the ` +
          'rows of the window changed while the run was downloading, so its pages no longer line up (run the night again)',
      );
    }
    const inconsistency =
      pageInconsistency(page, totalPages, pageSize, this.rowsSeen) ??
      (shape.total.counts === 'items'
        ? lastPageInconsistency(page, totalPages, pageSize, total, this.rowsSeen, pathText(shape.total.path))
        : undefined);
    if (inconsistency !== undefined) return this.fail('inconsistent', inconsistency);
    const outsideAsked = this.outsideAskedFailure();
    if (outsideAsked !== undefined) return this.fail('outside-window', outsideAsked);
    const rejectedFailure = this.tooManyRejected(this.rowsSeen);
    if (rejectedFailure) return this.fail('invalid-rows', rejectedFailure);
    return {
      ok: true,
      ndjson: EMPTY,
      totalPages,
      rows: this.emittedRows,
      rejected: this.rejected,
      outsideWindow: this.outsideWindow,
    };
  }

  private noteOutsideAsked(createdAt: string): void {
    this.outsideAsked += 1;
    this.outsideAskedExample ??= createdAt;
  }

  private outsideAskedFailure(): string | undefined {
    const check = this.options.rowsOutsideAsked;
    if (check?.action !== 'fail' || this.outsideAsked === 0) return undefined;
    return (
      `${this.outsideAsked} row(s) created outside the window asked for (${check.asked.from} to ${check.asked.to}), ` +
      `e.g. one created at ${this.outsideAskedExample}: does the API ignore the date filters (${check.filters})? ` +
      'Check their names and dateFilter in the source configuration; checks.rowsOutsideWindow: "warn" leaves such rows ' +
      'out instead of failing the page'
    );
  }

  private fail(kind: PageFailureKind, message: string): { ok: false; failure: PageFailure } {
    this.failure ??= { kind, message };
    return { ok: false, failure: this.failure };
  }

  /** Alternates between the envelope and the rows until the text is used up or the body failed. */
  private consume(text: string, out: Buffer[]): void {
    let rest = text;
    while (rest !== '' && this.failure === undefined) {
      rest = this.inRows ? this.scanRows(rest, out) : this.scanEnvelope(rest);
    }
  }

  /** Follows the envelope's structure; returns the text after the rows array's `[` when it is reached. */
  private scanEnvelope(text: string): string {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
        } else if (c === BACKSLASH) {
          this.escaped = true;
        } else if (c === QUOTE) {
          this.inString = false;
          if (this.stringIsKey) this.closeKey();
          continue;
        }
        if (this.stringIsKey) this.keyText += text[i];
        continue;
      }
      if (!this.started && !isJsonWhitespace(c)) {
        this.started = true;
        if (c === LESS_THAN) {
          this.fail('markup', 'markup (the body starts with "<"), not JSON');
          return '';
        }
      }
      const top = this.stack.at(-1);
      if (c === QUOTE) {
        this.inString = true;
        this.stringIsKey = top?.isObject === true && top.expectingKey;
        this.keyText = '';
      } else if (c === OPEN_BRACE) {
        this.stack.push({ isObject: true, key: undefined, expectingKey: true });
      } else if (c === OPEN_BRACKET) {
        if (this.atRowsPath()) {
          this.rowsArrays += 1;
          if (this.rowsArrays > 1) {
            this.fail('envelope', `${pathText(this.options.shape.rowsPath)} appears twice`);
            return '';
          }
          this.keepEnvelope(text.slice(0, i + 1));
          this.inRows = true;
          return text.slice(i + 1);
        }
        this.stack.push({ isObject: false, key: undefined, expectingKey: false });
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.stack.pop();
      } else if (c === COMMA && top?.isObject) {
        top.expectingKey = true;
        top.key = undefined;
      }
    }
    this.keepEnvelope(text);
    return '';
  }

  private closeKey(): void {
    const top = this.stack.at(-1);
    if (!top) return;
    let key: string;
    try {
      key = JSON.parse(`"${this.keyText}"`);
    } catch {
      // A broken escape: the envelope will not parse either, so the body fails when it ends.
      key = this.keyText;
    }
    top.key = key;
    top.expectingKey = false;
  }

  /** Whether a `[` here opens the rows: every enclosing container an object, their keys the rows path. */
  private atRowsPath(): boolean {
    const path = this.options.shape.rowsPath;
    if (this.stack.length !== path.length) return false;
    return this.stack.every((frame, i) => frame.isObject && !frame.expectingKey && frame.key === path[i]);
  }

  private keepEnvelope(text: string): void {
    this.envelopeChars += text.length;
    if (this.envelopeChars > this.maxEnvelopeChars) {
      this.fail('oversized', `the body outside the rows is larger than ${this.maxEnvelopeChars} characters`);
      return;
    }
    this.envelope.push(text);
  }

  /**
   * Finds where rows end (commas at the array's own depth), parses the complete ones and returns the text after the
   * rows array's `]` once it is reached.
   */
  private scanRows(text: string, out: Buffer[]): string {
    const scanStart = this.pending.length;
    const pending = this.pending + text;
    const commas: number[] = [];
    /** Per row ended in this text (at a comma or at the closing bracket), its number of keys. */
    const keys: number[] = [];
    /** Per row ended in this text, whether it was read on its text (CanonicalRows) or must be parsed. */
    const paths: RowPath[] = [];
    const canonical = this.options.checkRow?.canonicalText;
    let rowPath: RowPath = GENERAL;
    let rowKeys = this.rowKeys;
    let closedAt = -1;
    let i = this.scanFrom;
    if (this.rowStringOpen) {
      const close = closingQuote(pending, Math.max(scanStart, this.scanFrom));
      if (close < 0) {
        return this.holdPending(pending, pending.length);
      }
      this.rowStringOpen = false;
      i = close + 1;
    }
    let depth = this.depth;
    /** Whether `i` is where a row begins: `pending` always starts with one, and each comma of the array ends one. */
    let rowStart = i === 0;
    for (; i < pending.length; i++) {
      const c = pending.charCodeAt(i);
      if (rowStart) {
        rowStart = false;
        if (canonical !== undefined && c === OPEN_BRACE) {
          const end = canonical.end(pending, i);
          const next = end < 0 ? -1 : pending.charCodeAt(end);
          if (next === COMMA || next === CLOSE_BRACKET) {
            rowPath = CANONICAL_PATH_OF[canonical.placement(pending, end)];
            rowKeys = canonical.keys;
            i = end - 1;
            continue;
          }
          // The row has not all arrived (an object's last `}` is missing, or nothing follows it yet): scan it again
          // from its start with the next chunk, when it may be whole.
          const cut = end >= 0 ? end === pending.length : pending.indexOf('}', i) < 0;
          if (cut && pending.length - i <= RESCAN_ROW_CHARS) {
            i = pending.length;
            break;
          }
        }
      }
      if (c === QUOTE) {
        const close = closingQuote(pending, i + 1);
        if (close < 0) {
          this.rowStringOpen = true;
          i = pending.length;
          break;
        }
        i = close;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth += 1;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) {
          if (c === CLOSE_BRACE) {
            this.fail(
              'malformed',
              `the rows array is closed by "}" after row ${this.rowsSeen + commas.length}`,
            );
            return '';
          }
          closedAt = i;
          keys.push(rowKeys);
          paths.push(rowPath);
          rowKeys = 0;
          break;
        }
        depth -= 1;
      } else if (c === COMMA && depth === 0) {
        commas.push(i);
        keys.push(rowKeys);
        paths.push(rowPath);
        rowKeys = 0;
        rowPath = GENERAL;
        rowStart = true;
      } else if (c === COLON && depth === 1) {
        rowKeys += 1;
      }
    }
    if (closedAt >= 0) {
      const rows = pending.slice(0, closedAt);
      const empty = commas.length === 0 && this.rowsSeen === 0 && rows.trim() === '';
      if (!empty) this.parseRows(rows, commas, keys, paths, commas.length + 1, out);
      this.pending = '';
      this.scanFrom = 0;
      this.depth = 0;
      this.rowKeys = 0;
      this.inRows = false;
      this.keepEnvelope(']');
      return pending.slice(closedAt + 1);
    }
    const lastComma = commas.at(-1);
    const held = lastComma === undefined ? 0 : lastComma + 1;
    if (lastComma !== undefined) {
      this.parseRows(pending.slice(0, lastComma), commas, keys, paths, commas.length, out);
    }
    // The row not yet ended: scanned again from its start next time when it is short, else from where it stopped.
    if (canonical !== undefined && pending.length - held <= RESCAN_ROW_CHARS) {
      this.depth = 0;
      this.rowKeys = 0;
      this.rowStringOpen = false;
      return this.holdPending(pending.slice(held), 0);
    }
    this.depth = depth;
    this.rowKeys = rowKeys;
    return this.holdPending(pending.slice(held), i - held);
  }

  private holdPending(pending: string, scanFrom: number): string {
    if (pending.length > this.maxRowChars) {
      this.fail('oversized', `row ${this.rowsSeen} is larger than ${this.maxRowChars} characters`);
      return '';
    }
    this.pending = pending;
    this.scanFrom = scanFrom;
    return '';
  }

  /**
   * Parses `count` rows: `text` is the rows separated by the commas at `commas` (offsets into the same text);
   * `keys` has each row's number of keys as the scanner counted them.
   */
  private parseRows(
    text: string,
    commas: readonly number[],
    keys: readonly number[],
    paths: readonly RowPath[],
    count: number,
    out: Buffer[],
  ): void {
    const first = this.rowsSeen;
    if (first + count > this.options.pageSize) {
      this.fail('oversized', `more rows than the page size (${this.options.pageSize})`);
      return;
    }
    if (paths.length === count && !paths.includes(GENERAL)) {
      this.storeCanonicalRows(text, commas, paths, count, out);
      return;
    }
    let parsed: unknown;
    try {
      parsed = parseJsonText(`[${text}]`);
    } catch {
      this.fail('malformed', `row ${first + badRowIndex(text, commas)} is not valid JSON`);
      return;
    }
    // `[ ]` for a row that is only whitespace parses as fewer rows than commas counted.
    if (!Array.isArray(parsed) || parsed.length !== count) {
      this.fail('malformed', `an empty row (a stray comma) near row ${first}`);
      return;
    }
    this.rowsSeen += count;
    const check = this.options.checkRow;
    if (check === undefined) {
      const outsideAskedOf = this.options.outsideAskedOf;
      for (const raw of outsideAskedOf === undefined ? [] : parsed) {
        const createdAt = outsideAskedOf?.(raw);
        if (createdAt !== undefined) this.noteOutsideAsked(createdAt);
      }
      return;
    }
    const valid: unknown[] = [];
    /** Per valid row, its own text when it can be stored verbatim, else undefined. */
    const verbatim: (string | undefined)[] = [];
    let allVerbatim = true;
    let flat = true;
    // Rows are never broken across lines in NDJSON; a body with line breaks between tokens is re-serialised.
    const oneLine = text.indexOf('\n') < 0 && text.indexOf('\r') < 0;
    for (let r = 0; r < parsed.length; r++) {
      const verdict = checked(check, parsed[r]);
      if (verdict.ok) {
        valid.push(verdict.row);
        flat &&= verdict.flat === true;
        const own =
          oneLine && verdict.verbatimKeys !== undefined && verdict.verbatimKeys === keys[r]
            ? text.slice(r === 0 ? 0 : (commas[r - 1] ?? 0) + 1, commas[r] ?? text.length).trim()
            : undefined;
        verbatim.push(own);
        allVerbatim &&= own !== undefined;
        continue;
      }
      allVerbatim = false;
      if (verdict.outsideWindow === true) {
        this.outsideWindow += 1;
        if (verdict.outsideAsked !== undefined) this.noteOutsideAsked(verdict.outsideAsked);
        continue;
      }
      const index = first + r;
      if (this.options.invalidRows.action === 'fail') {
        this.fail('invalid-rows', `row ${index}: ${verdict.reason}`);
        return;
      }
      this.rejected.push({ index, reason: verdict.reason, row: preview(parsed[r]) });
      // The page fails in the end once the share is exceeded even by a full page: stop reading it now.
      const reason = this.tooManyRejected(this.options.pageSize);
      if (reason) {
        this.fail('invalid-rows', reason);
        return;
      }
    }
    if (valid.length > 0) {
      out.push(
        (allVerbatim ? verbatimBatch(text, commas, count) : undefined) ??
          Buffer.from(allVerbatim ? `${verbatim.join('\n')}\n` : ndjsonOf(valid, flat, verbatim)),
      );
      this.emittedRows += valid.length;
    }
  }

  /**
   * A batch whose every row CanonicalRows accepted: valid JSON row by row (rows separated by single commas), each
   * row valid and stored as its own text, which is what the general path would store for them.
   */
  private storeCanonicalRows(
    text: string,
    commas: readonly number[],
    paths: readonly RowPath[],
    count: number,
    out: Buffer[],
  ): void {
    this.rowsSeen += count;
    if (!paths.includes(CANONICAL_OUTSIDE) && !paths.includes(CANONICAL_OUTSIDE_ASKED)) {
      out.push(verbatimBatch(text, commas, count) ?? Buffer.from(`${text.replaceAll('},{', '}\n{')}\n`));
      this.emittedRows += count;
      return;
    }
    let lines = '';
    for (let r = 0; r < count; r++) {
      if (paths[r] === CANONICAL_OUTSIDE_ASKED) {
        // A canonical row ends where its comma (or the batch) does: its created_at is read off its last characters.
        this.noteOutsideAsked(
          this.options.checkRow?.canonicalText?.createdAt(text, commas[r] ?? text.length) ?? '',
        );
      }
      if (paths[r] === CANONICAL_OUTSIDE || paths[r] === CANONICAL_OUTSIDE_ASKED) {
        this.outsideWindow += 1;
        continue;
      }
      lines += `${text.slice(r === 0 ? 0 : (commas[r - 1] ?? 0) + 1, commas[r] ?? text.length)}\n`;
      this.emittedRows += 1;
    }
    if (lines !== '') out.push(Buffer.from(lines));
  }

  private tooManyRejected(rows: number): string | undefined {
    const { maxShare } = this.options.invalidRows;
    const first = this.rejected[0];
    if (first === undefined || this.rejected.length <= maxShare * rows) return undefined;
    return (
      `${this.rejected.length} of ${rows} rows break the row schema (more than ${maxShare * 100}% allowed); ` +
      `first: row ${first.index}: ${first.reason}`
    );
  }
}

/**
 * UTF-8 bytes to text, chunk by chunk, refusing invalid UTF-8: a character split between chunks is held back
 * until its last byte arrives. Validation and decoding are Node's native ones (`isUtf8`, `Buffer#toString`),
 * several times faster than a fatal streaming TextDecoder, which matters at 5 MB a page.
 */
class Utf8Decoder {
  private carry: Buffer | undefined;
  private first = true;

  /** Whether bytes of an incomplete character are waiting. */
  get pending(): boolean {
    return this.carry !== undefined;
  }

  /** The text of the complete characters so far, or undefined when the bytes are not UTF-8. */
  decode(chunk: Uint8Array): string | undefined {
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const bytes = this.carry === undefined ? view : Buffer.concat([this.carry, view]);
    const complete = completeLength(bytes);
    this.carry = complete < bytes.length ? Buffer.from(bytes.subarray(complete)) : undefined;
    const whole = bytes.subarray(0, complete);
    if (!isUtf8(whole)) return undefined;
    let text = whole.toString('utf8');
    if (this.first && text !== '') {
      this.first = false;
      // A byte order mark is not part of the JSON text (RFC 8259 §8.1 lets a parser ignore it).
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  }
}

/** The length of `bytes` without a trailing, incomplete multi-byte sequence. */
function completeLength(bytes: Uint8Array): number {
  const end = bytes.length;
  for (let back = 1; back <= Math.min(4, end); back++) {
    const byte = bytes[end - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: keep looking for its lead
    const expected = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return expected > back ? end - back : end;
  }
  return end;
}

/** A check that throws (a bug in it, or in a schema's refinement) rejects the row rather than the page. */
function checked(check: RowCheck, row: unknown): RowVerdict {
  try {
    return check(row);
  } catch (error) {
    const name =
      typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : 'Error';
    return { ok: false, reason: `the row check failed (${name})` };
  }
}

/** Index of the closing quote of a string whose contents start at `from`, or -1 if it has not arrived yet. */
function closingQuote(text: string, from: number): number {
  let at = from;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let k = quote - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/**
 * A batch whose rows are all stored verbatim, as bytes, straight from its text: the commas between rows become
 * line breaks. Only for compact ASCII text (no spaces around rows, so character offsets are byte offsets and each
 * row is exactly its own text); undefined otherwise, for the caller to build the lines one by one.
 */
function verbatimBatch(text: string, commas: readonly number[], count: number): Buffer | undefined {
  const last = text.length - 1;
  if (text.charCodeAt(0) !== OPEN_BRACE || text.charCodeAt(last) !== CLOSE_BRACE) return undefined;
  if (Buffer.byteLength(text, 'utf8') !== text.length) return undefined;
  for (let r = 0; r < count - 1; r++) {
    const comma = commas[r] ?? -1;
    if (text.charCodeAt(comma - 1) !== CLOSE_BRACE || text.charCodeAt(comma + 1) !== OPEN_BRACE)
      return undefined;
  }
  const bytes = Buffer.allocUnsafe(text.length + 1);
  bytes.write(text, 0, 'latin1');
  for (let r = 0; r < count - 1; r++) bytes[commas[r] ?? 0] = NEWLINE;
  bytes[text.length] = NEWLINE;
  return bytes;
}

/**
 * Rows as NDJSON lines. Flat rows that all begin with the same key go through one JSON.stringify for the whole
 * batch, then the array is split between its objects: there `},{"key":` can only stand between two objects, since
 * inside a string a quote is escaped, and after a string's closing quote JSON allows only `,:}]`, never a key's
 * first character. Any other rows are serialised one by one.
 */
function ndjsonOf(
  rows: readonly unknown[],
  flat: boolean,
  verbatim: readonly (string | undefined)[],
): string {
  const firstKey = flat ? sharedFirstKey(rows) : undefined;
  if (firstKey !== undefined) {
    const key = JSON.stringify(firstKey);
    return `${JSON.stringify(rows).slice(1, -1).replaceAll(`},{${key}:`, `}\n{${key}:`)}\n`;
  }
  let text = '';
  for (let r = 0; r < rows.length; r++) text += `${verbatim[r] ?? JSON.stringify(rows[r])}\n`;
  return text;
}

/** The first key of every row, when they all have the same one. */
function sharedFirstKey(rows: readonly unknown[]): string | undefined {
  let shared: string | undefined;
  for (const row of rows) {
    if (!isObject(row)) return undefined;
    let first: string | undefined;
    for (const key in row) {
      first = key;
      break;
    }
    if (first === undefined || (shared !== undefined && first !== shared)) return undefined;
    shared = first;
  }
  return shared;
}

/** The first row of a batch that does not parse on its own (for the error message). */
function badRowIndex(text: string, commas: readonly number[]): number {
  let start = 0;
  for (let r = 0; r <= commas.length; r++) {
    const end = commas[r] ?? text.length;
    try {
      JSON.parse(text.slice(start, end));
    } catch {
      return r;
    }
    start = end + 1;
  }
  return 0;
}

function preview(row: unknown): string {
  const text = JSON.stringify(row) ?? String(row);
  return text.length > REJECTED_ROW_CHARS ? `${text.slice(0, REJECTED_ROW_CHARS)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function valueAt(value: unknown, path: JsonPath): unknown {
  let here: unknown = value;
  for (const key of path) {
    if (!isObject(here) || !Object.hasOwn(here, key)) return undefined;
    here = here[key];
  }
  return here;
}

function pathText(path: JsonPath): string {
  return path.join('.');
}

/** A whole body at once, as a list of pieces: for tests and small responses. */
export function parsePageBody(
  pieces: Iterable<Uint8Array | string>,
  options: PageParserOptions,
): ParserEnd & { ndjsonAll?: string } {
  // Strings here: this is for tests and small bodies, where readability beats bytes.
  const parser = new PageBodyParser(options);
  const out: string[] = [];
  for (const piece of pieces) {
    const step = parser.push(piece);
    if (!step.ok) return step;
    out.push(step.ndjson.toString('utf8'));
  }
  const end = parser.end();
  if (!end.ok) return end;
  out.push(end.ndjson.toString('utf8'));
  return { ...end, ndjsonAll: out.join('') };
}

/** A count as people read it in a message: 100,000,000. */
function count(value: number): string {
  return value.toLocaleString('en-US');
}
