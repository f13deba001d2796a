/**
 * EventBridge event-pattern matching for the local bus, following
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html.
 * A pattern this module cannot evaluate exactly as EventBridge does is refused with EventPatternError when the
 * rule is declared, never matched approximately.
 */

export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks that every operator in the pattern is one we implement; throws naming the path otherwise. */
export function assertSupportedPattern(pattern: unknown, at = '$'): void {
  if (!isObject(pattern)) {
    throw new EventPatternError(`${at}: a pattern must be a JSON object`);
  }
  for (const [key, value] of Object.entries(pattern)) {
    const path = `${at}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new EventPatternError(`${path}: $or takes a non-empty array of patterns`);
      }
      for (const [i, alternative] of value.entries()) assertSupportedPattern(alternative, `${path}[${i}]`);
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new EventPatternError(`${path}: an empty array matches nothing`);
      for (const [i, matcher] of value.entries()) assertSupportedMatcher(matcher, `${path}[${i}]`);
    } else if (isObject(value)) {
      assertSupportedPattern(value, path);
    } else {
      throw new EventPatternError(`${path}: leaf values must be arrays, e.g. ["${String(value)}"]`);
    }
  }
}

const STRING_OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

function assertSupportedMatcher(matcher: unknown, path: string): void {
  if (!isObject(matcher)) {
    if (matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher)) return;
    throw new EventPatternError(`${path}: unsupported matcher ${JSON.stringify(matcher)}`);
  }
  const keys = Object.keys(matcher);
  const [operator] = keys;
  if (keys.length !== 1 || operator === undefined) {
    throw new EventPatternError(`${path}: a matcher object has exactly one operator`);
  }
  const operand = matcher[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof operand === 'string') return;
      if (
        isObject(operand) &&
        typeof operand['equals-ignore-case'] === 'string' &&
        Object.keys(operand).length === 1
      )
        return;
      break;
    case 'equals-ignore-case':
    case 'wildcard':
    case 'cidr':
      if (typeof operand === 'string') {
        if (operator === 'cidr') parseCidr(operand, path);
        return;
      }
      break;
    case 'exists':
      if (typeof operand === 'boolean') return;
      break;
    case 'numeric':
      parseNumeric(operand, path);
      return;
    case 'anything-but':
      if (Array.isArray(operand) && operand.every((v) => typeof v === 'string' || typeof v === 'number'))
        return;
      if (typeof operand === 'string' || typeof operand === 'number') return;
      if (isObject(operand) && Object.keys(operand).length === 1) {
        const [inner] = Object.keys(operand);
        const value = inner === undefined ? undefined : operand[inner];
        if (inner !== undefined && STRING_OPERATORS.has(inner)) {
          if (typeof value === 'string') return;
          if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return;
        }
      }
      break;
    default:
      throw new EventPatternError(`${path}: unsupported operator "${operator}"`);
  }
  throw new EventPatternError(`${path}: invalid operand for "${operator}": ${JSON.stringify(operand)}`);
}

/** True when the event matches the pattern (the pattern must have passed assertSupportedPattern). */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  if (!isObject(event)) return false;
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') {
      return Array.isArray(expected) && expected.some((alt) => isObject(alt) && matchesPattern(alt, event));
    }
    const present = Object.hasOwn(event, key);
    const actual = event[key];
    if (Array.isArray(expected)) {
      return matchesLeaf(expected, present, actual);
    }
    if (isObject(expected)) {
      if (!present) return false;
      if (Array.isArray(actual)) return actual.some((item) => matchesPattern(expected, item));
      return matchesPattern(expected, actual);
    }
    return false;
  });
}

function matchesLeaf(matchers: readonly unknown[], present: boolean, actual: unknown): boolean {
  // An array in the event matches when any of its elements matches (EventBridge "array" semantics).
  const values: unknown[] = Array.isArray(actual) ? actual : [actual];
  return matchers.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) {
      return (
        matcher.exists ===
        (present && actual !== undefined && !(Array.isArray(actual) && actual.length === 0))
      );
    }
    if (!present) return false;
    if (isObject(matcher) && 'anything-but' in matcher) {
      // anything-but matches when no element of the value is excluded.
      return values.every((value) => anythingBut(matcher['anything-but'], value));
    }
    return values.some((value) => matchesOne(matcher, value));
  });
}

function matchesOne(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) {
    if (typeof matcher === 'number' && typeof value === 'number') return matcher === value;
    return matcher === value;
  }
  const [operator] = Object.keys(matcher);
  const operand = operator === undefined ? undefined : matcher[operator];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && stringTest(operand, value, (v, o) => v.startsWith(o));
    case 'suffix':
      return typeof value === 'string' && stringTest(operand, value, (v, o) => v.endsWith(o));
    case 'equals-ignore-case':
      return (
        typeof value === 'string' &&
        typeof operand === 'string' &&
        value.toLowerCase() === operand.toLowerCase()
      );
    case 'wildcard':
      return typeof value === 'string' && typeof operand === 'string' && wildcard(operand).test(value);
    case 'numeric':
      return typeof value === 'number' && numericTest(parseNumeric(operand, '$'), value);
    case 'cidr':
      return (
        typeof value === 'string' && typeof operand === 'string' && inCidr(parseCidr(operand, '$'), value)
      );
    default:
      return false;
  }
}

function stringTest(operand: unknown, value: string, test: (v: string, o: string) => boolean): boolean {
  if (typeof operand === 'string') return test(value, operand);
  if (isObject(operand) && typeof operand['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  }
  return false;
}

function anythingBut(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return !operand.includes(value as Json);
  if (typeof operand === 'string' || typeof operand === 'number') return operand !== value;
  if (isObject(operand)) {
    const [inner] = Object.keys(operand);
    if (inner === undefined) return true;
    const excluded = operand[inner];
    const list = Array.isArray(excluded) ? excluded : [excluded];
    // Non-string values are never excluded by a string operator.
    if (typeof value !== 'string') return true;
    return !list.some((one) => matchesOne({ [inner]: one }, value));
  }
  return true;
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

type Comparison = { op: '<' | '<=' | '=' | '>' | '>='; value: number };

function parseNumeric(operand: unknown, path: string): Comparison[] {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    throw new EventPatternError(`${path}: numeric takes one or two [operator, number] pairs`);
  }
  const comparisons: Comparison[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const value = operand[i + 1];
    if (
      !(op === '<' || op === '<=' || op === '=' || op === '>' || op === '>=') ||
      typeof value !== 'number'
    ) {
      throw new EventPatternError(`${path}: invalid numeric comparison ${JSON.stringify([op, value])}`);
    }
    comparisons.push({ op, value });
  }
  return comparisons;
}

const COMPARE: Record<Comparison['op'], (value: number, bound: number) => boolean> = {
  '<': (v, b) => v < b,
  '<=': (v, b) => v <= b,
  '=': (v, b) => v === b,
  '>': (v, b) => v > b,
  '>=': (v, b) => v >= b,
};

function numericTest(comparisons: readonly Comparison[], value: number): boolean {
  return comparisons.every(({ op, value: bound }) => COMPARE[op](value, bound));
}

type Cidr = { base: number; bits: number };

function parseCidr(text: string, path: string): Cidr {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  const base = match ? ipv4ToNumber(text.split('/')[0] ?? '') : undefined;
  const bits = match ? Number(match[5]) : Number.NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) {
    throw new EventPatternError(`${path}: cidr supports IPv4 blocks such as "10.0.0.0/24", got "${text}"`);
  }
  return { base, bits };
}

function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let result = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    result = result * 256 + octet;
  }
  return result;
}

function inCidr({ base, bits }: Cidr, value: string): boolean {
  const ip = ipv4ToNumber(value);
  if (ip === undefined) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(base / size);
}
