import * as z from 'zod';
import type { Dataset } from '../../events/index.js';
import { LONE_SURROGATE, MAX_VEHICLE_TYPE_LENGTH, normaliseInstant } from './rows.js';

/**
 * The row schemas of rows.ts, checked without zod for the rows that pass them: a page has 50,000 rows, and zod's
 * generic machinery (a payload and an issue list per value, a check loop per string) cost about a third of the
 * pipeline's CPU per row. Each check here says "valid, and this is what zod would return" or "ask zod", never
 * "invalid": a row the fast path does not accept goes through the schema, which decides and names what is wrong.
 * So the fast path can only be too strict (slower), never more lenient; tests/unit/shared/row-fast-path.test.ts
 * proves it equal to the schemas on random rows, valid and not (docs/decisions/0087-rows-checked-without-zod.md).
 */

/** The row as the dataset's schema returns it (same keys, same order, same values), or undefined: ask zod. */
export type FastRowCheck = (candidate: unknown) => Record<string, unknown> | undefined;

/** zod's own pattern for `z.iso.datetime({ offset: true })`: the instant check of rows.ts. */
const ISO_INSTANT = z.regexes.datetime({ offset: true, local: false, precision: undefined });

/**
 * What `text(max)` in rows.ts accepts: a string of 1 to `max` characters, without a lone surrogate. zod counts
 * Unicode code points, and a code point is one or two UTF-16 units, so only a string longer than `max` units needs
 * counting (an emoji is two units and one character).
 */
function isText(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    (value.length <= max || codePoints(value) <= max) &&
    !LONE_SURROGATE.test(value)
  );
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

/** The instant's canonical text, as the `instant` schema returns it; undefined when it is no instant. */
function instantOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) return undefined;
  return normaliseInstant(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const checkVehicle: FastRowCheck = (candidate) => {
  if (!isRecord(candidate)) return undefined;
  const { vehicle_id, vehicle_type } = candidate;
  if (!isText(vehicle_id, 64) || !isText(vehicle_type, MAX_VEHICLE_TYPE_LENGTH)) return undefined;
  const created_at = instantOf(candidate.created_at);
  if (created_at === undefined) return undefined;
  return { vehicle_id, vehicle_type, created_at };
};

const checkSensor: FastRowCheck = (candidate) => {
  if (!isRecord(candidate)) return undefined;
  const { vehicle_id, timestamp, sensor_value } = candidate;
  if (!isText(vehicle_id, 64)) return undefined;
  // z.number() refuses NaN and ±Infinity; .int() asks for a safe integer.
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) return undefined;
  if (sensor_value !== null && (typeof sensor_value !== 'number' || !Number.isFinite(sensor_value)))
    return undefined;
  const created_at = instantOf(candidate.created_at);
  if (created_at === undefined) return undefined;
  return { vehicle_id, timestamp, sensor_value, created_at };
};

export const fastRowChecks: Readonly<Record<Dataset, FastRowCheck>> = {
  vehicles: checkVehicle,
  sensors: checkSensor,
};

/**
 * A row in the page's own text, checked before any JSON.parse: when it is written exactly as the simulator and
 * most APIs write the canonical row (the columns in order, no spaces, strings without escapes, integers and plain
 * decimals, instants already canonical), its text is valid JSON whose parsed value the schema accepts unchanged,
 * so the row can be stored as it came without being parsed at all. Any other form goes the general way.
 */
export interface CanonicalRowText {
  /**
   * The index just after the row that starts at `at` (its `}`), when it is a canonical row the schema accepts;
   * -1 otherwise. The row's `}` is its only one: a canonical string holds no `}`.
   */
  end(text: string, at: number): number;
  /** The `created_at` of a row `end` accepted: the window keeps or drops the row by it. */
  createdAt(text: string, end: number): string;
  /** The row's number of keys (the page scanner counts them to catch a duplicated key). */
  keys: number;
}

/**
 * A JSON string's characters without escapes, as the fast path reads them: no quote, backslash or control
 * character (JSON forbids them raw), no `}` (so a canonical row has exactly one, its last), no surrogate (so the
 * text is valid Unicode and its length is the schema's). Anything else takes the general path.
 */
const PLAIN = '[ !#-\\[\\]-|~-\\uD7FF\\uE000-\\uFFFF]';
/** A canonical instant's shape; ISO_INSTANT then checks it is a real date and time. */
const INSTANT = '"(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)"';
/** Whole numbers below 10^15 (safe integers) and decimals without exponent (always finite). */
const WHOLE = '(?:0|[1-9]\\d{0,14})';
const DECIMAL = `-?${WHOLE}(?:\\.\\d{1,20})?`;

/** Length of `"created_at":"…"}`, the end of every canonical row: the instant is 24 characters before `"}`. */
const INSTANT_FROM_END = 26;

function canonicalRowText(pattern: string, keys: number, check: (match: RegExpExecArray) => boolean) {
  const regex = new RegExp(pattern, 'y');
  return {
    keys,
    end(text: string, at: number): number {
      regex.lastIndex = at;
      const match = regex.exec(text);
      return match !== null && check(match) ? regex.lastIndex : -1;
    },
    createdAt(text: string, end: number): string {
      return text.slice(end - INSTANT_FROM_END, end - 2);
    },
  } satisfies CanonicalRowText;
}

export const canonicalRowTexts: Readonly<Record<Dataset, CanonicalRowText>> = {
  vehicles: canonicalRowText(
    `\\{"vehicle_id":"${PLAIN}{1,64}","vehicle_type":"${PLAIN}{1,${MAX_VEHICLE_TYPE_LENGTH}}","created_at":${INSTANT}\\}`,
    3,
    (match) => ISO_INSTANT.test(match[1] ?? ''),
  ),
  sensors: canonicalRowText(
    `\\{"vehicle_id":"${PLAIN}{1,64}","timestamp":${WHOLE},"sensor_value":(?:null|${DECIMAL}),"created_at":${INSTANT}\\}`,
    4,
    (match) => ISO_INSTANT.test(match[1] ?? ''),
  ),
};
