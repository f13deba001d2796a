/**
 * EventBridge event-pattern matching for the local bus. The semantics are EventBridge's (its matcher is Event
 * Ruler): https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html. A pattern
 * this module cannot evaluate exactly as EventBridge does is refused with EventPatternError when the rule is
 * declared, naming the path and the reason; it is never matched approximately.
 *
 * How a pattern is evaluated:
 * - `$or` is expanded when the pattern is compiled into flat alternatives; the rule matches when one does.
 * - Within an alternative every field must match; a field matches when any of its listed matchers matches.
 * - An array in the event offers each element (recursively) to the matchers: the field matches when any element
 *   does — `anything-but` too, so `["a", "b"]` is "anything but a". A nested pattern object is matched against
 *   each object element as a whole, so two fields can only match within the same element.
 * - `exists` asks whether the path reaches a leaf: a missing key, an object, `{}` or `[]` do not exist; `null`
 *   does.
 */
import { comparableNumber } from './pattern/comparable-number.js';
import {
  cidrRange,
  compareIp,
  hasPaddedOctet,
  type IpBytes,
  type IpRange,
  inRange,
  looksLikeIp,
  parseIp,
} from './pattern/ip-address.js';
import {
  endsWithIgnoreCase,
  equalsIgnoreCase,
  matchesWildcard,
  parseWildcard,
  startsWithIgnoreCase,
  type WildcardPattern,
} from './pattern/string-matchers.js';

export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
}

/** EventBridge refuses a pattern whose `$or`s expand to more than this many combinations. */
const MAX_COMBINATIONS = 1000;
/** A guard against runaway nesting, far beyond any real pattern. */
const MAX_DEPTH = 50;
/** Operator names that may not be field names inside `$or` (Event Ruler's reserved list, abridged to ours). */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
]);

type Matcher =
  | { kind: 'string'; value: string }
  | { kind: 'ip'; address: IpBytes }
  | { kind: 'number'; millionths: bigint }
  | { kind: 'literal'; value: boolean | null }
  | { kind: 'prefix' | 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'equals-ignore-case'; value: string }
  | { kind: 'wildcard'; segments: WildcardPattern }
  | { kind: 'numeric'; lower?: Bound; upper?: Bound }
  | { kind: 'cidr'; range: IpRange }
  | { kind: 'exists'; value: boolean }
  | { kind: 'anything-but'; excludes: (value: Scalar) => boolean };

type Bound = { millionths: bigint; inclusive: boolean };
type Scalar = string | number | boolean | null;

/** One `$or`-free alternative: a tree of field names ending in matcher lists. */
type Alternative = Map<string, Alternative | Matcher[]>;

export interface CompiledPattern {
  readonly alternatives: readonly Alternative[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function fail(path: string, message: string): never {
  throw new EventPatternError(`${path}: ${message}`);
}

/** Validates and compiles a pattern; throws EventPatternError naming the path of the first problem. */
export function compilePattern(pattern: unknown, at = '$'): CompiledPattern {
  if (!isObject(pattern)) fail(at, 'a pattern must be a JSON object');
  const combinations = countCombinations(pattern, at, 0);
  if (combinations > MAX_COMBINATIONS) {
    fail(
      at,
      `the $or clauses expand to ${combinations} combinations; EventBridge allows ${MAX_COMBINATIONS}`,
    );
  }
  const alternatives: Alternative[] = [new Map()];
  compileObject(alternatives, [], pattern, at, false, 0);
  return { alternatives };
}

/** Checks that EventBridge and the local bus evaluate the pattern alike; throws EventPatternError otherwise. */
export function assertSupportedPattern(pattern: unknown, at = '$'): void {
  compilePattern(pattern, at);
}

const compiledCache = new WeakMap<object, CompiledPattern>();

/** True when the event matches the pattern (compiled once per pattern object). */
export function matchesPattern(pattern: Record<string, unknown> | CompiledPattern, event: unknown): boolean {
  return matchesCompiled(isCompiled(pattern) ? pattern : cachedCompile(pattern), event);
}

/** True when the event matches the compiled pattern: the bus's hot path, without `matchesPattern`'s checks. */
export function matchesCompiled(compiled: CompiledPattern, event: unknown): boolean {
  for (const alternative of compiled.alternatives) if (matchesAlternative(alternative, event)) return true;
  return false;
}

function isCompiled(pattern: object): pattern is CompiledPattern {
  return (
    'alternatives' in pattern &&
    Array.isArray(pattern.alternatives) &&
    pattern.alternatives.every((a) => a instanceof Map)
  );
}

function cachedCompile(pattern: Record<string, unknown>): CompiledPattern {
  const cached = compiledCache.get(pattern);
  if (cached) return cached;
  const compiled = compilePattern(pattern);
  compiledCache.set(pattern, compiled);
  return compiled;
}

// ---------------------------------------------------------------------------------------------------------------
// Compiling

/** EventBridge's documented count: the product of the lengths of every `$or` array. */
function countCombinations(node: Record<string, unknown>, path: string, depth: number): number {
  if (depth > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels`);
  let product = 1;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$or' && Array.isArray(value)) {
      product *= Math.max(1, value.length);
      for (const [i, member] of value.entries()) {
        if (isObject(member)) product *= countCombinations(member, `${path}.$or[${i}]`, depth + 1);
      }
    } else if (isObject(value)) {
      product *= countCombinations(value, `${path}.${key}`, depth + 1);
    }
  }
  return product;
}

function compileObject(
  alternatives: Alternative[],
  fieldPath: readonly string[],
  node: Record<string, unknown>,
  at: string,
  insideOr: boolean,
  depth: number,
): void {
  const entries = Object.entries(node);
  if (entries.length === 0) fail(at, 'empty objects are not allowed in a pattern');
  for (const [key, value] of entries) {
    const path = `${at}.${key}`;
    if (key === '$or') {
      compileOr(alternatives, fieldPath, value, path, depth);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      fail(path, `"${key}" is an operator name and cannot be a field name inside $or`);
    }
    if (key.includes('.')) {
      // Event Ruler joins field names with dots, so "a.b" would also match the nested field a → b.
      fail(path, 'field names containing "." are not supported: write the nesting as objects');
    }
    if (Array.isArray(value)) {
      writeLeaf(alternatives, [...fieldPath, key], compileMatchers(value, path), path);
    } else if (isObject(value)) {
      compileObject(alternatives, [...fieldPath, key], value, path, insideOr, depth + 1);
    } else {
      fail(path, `"${key}" must be an object or an array, e.g. [${JSON.stringify(value)}]`);
    }
  }
}

function compileOr(
  alternatives: Alternative[],
  fieldPath: readonly string[],
  members: unknown,
  path: string,
  depth: number,
): void {
  // EventBridge reads a malformed `$or` as an ordinary field named "$or"; we refuse it instead.
  if (!Array.isArray(members) || members.length < 2 || !members.every(isObject)) {
    fail(path, '$or takes an array of at least two pattern objects');
  }
  const before = alternatives.map(cloneAlternative);
  alternatives.length = 0;
  for (const [i, member] of members.entries()) {
    const forked = before.map(cloneAlternative);
    compileObject(forked, fieldPath, member, `${path}[${i}]`, true, depth + 1);
    alternatives.push(...forked);
  }
}

function cloneAlternative(alternative: Alternative): Alternative {
  return new Map(
    [...alternative].map(([key, node]) => [key, node instanceof Map ? cloneAlternative(node) : node]),
  );
}

/**
 * Records a field's matchers in every alternative. The same field constrained twice (inside and outside a
 * `$or`) keeps only the last constraint in document order in EventBridge; we refuse it rather than depend on
 * key order.
 */
function writeLeaf(
  alternatives: Alternative[],
  fieldPath: readonly string[],
  matchers: Matcher[],
  path: string,
) {
  for (const alternative of alternatives) {
    let node = alternative;
    for (const step of fieldPath.slice(0, -1)) {
      const child = node.get(step);
      if (Array.isArray(child)) fail(path, `"${step}" is matched both as a value and as an object`);
      if (child instanceof Map) {
        node = child;
      } else {
        const created: Alternative = new Map();
        node.set(step, created);
        node = created;
      }
    }
    const last = fieldPath.at(-1) ?? '';
    if (node.has(last)) {
      fail(path, `the field is constrained twice (inside and outside $or); EventBridge keeps only one`);
    }
    node.set(last, matchers);
  }
}

function compileMatchers(values: readonly unknown[], path: string): Matcher[] {
  if (values.length === 0) fail(path, 'an empty array matches nothing; EventBridge refuses it');
  return values.map((value, i) => compileMatcher(value, `${path}[${i}]`));
}

function compileMatcher(value: unknown, path: string): Matcher {
  if (typeof value === 'string') return stringLiteral(value, path);
  if (typeof value === 'number') return { kind: 'number', millionths: comparable(value, path) };
  if (typeof value === 'boolean' || value === null) return { kind: 'literal', value };
  if (!isObject(value))
    return fail(path, 'a match value must be a string, number, true, false, null or an operator');
  const keys = Object.keys(value);
  const [operator] = keys;
  if (operator === undefined) return fail(path, 'an operator object needs an operator');
  if (keys.length !== 1) return fail(path, 'an operator object has exactly one operator');
  const operand = value[operator];
  const at = `${path}.${operator}`;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      return affix(operator, operand, at);
    case 'equals-ignore-case':
      return { kind: 'equals-ignore-case', value: asciiString(operand, at) };
    case 'wildcard':
      return { kind: 'wildcard', segments: wildcard(operand, at) };
    case 'numeric':
      return numeric(operand, at);
    case 'cidr':
      return { kind: 'cidr', range: cidr(operand, at) };
    case 'exists':
      if (typeof operand !== 'boolean') return fail(at, 'exists takes true or false');
      return { kind: 'exists', value: operand };
    case 'anything-but':
      return { kind: 'anything-but', excludes: anythingBut(operand, at) };
    default:
      return fail(path, `unsupported operator "${operator}"`);
  }
}

/**
 * A literal string. EventBridge reads a literal that is an IP address as that address, so "10.0.0.1" also
 * matches "::ffff:a00:1"; a zero-padded dotted quad is refused since parsers read it differently.
 */
function stringLiteral(value: string, path: string): Matcher {
  if (hasPaddedOctet(value))
    fail(path, `"${value}" has a zero-padded octet, which IP parsers read differently`);
  const address = looksLikeIp(value) ? parseIp(value) : undefined;
  return address ? { kind: 'ip', address } : { kind: 'string', value };
}

function comparable(value: number, path: string): bigint {
  const millionths = comparableNumber(value);
  if (millionths === undefined) {
    return fail(
      path,
      `${value}: EventBridge compares numbers between -5e9 and 5e9 with at most six decimals; ` +
        'match other numbers as strings',
    );
  }
  return millionths;
}

/**
 * Case-insensitive operands must be ASCII: for other characters case mappings differ between implementations
 * (ß, the Kelvin sign, Turkish İ), and we would rather refuse than guess.
 */
function asciiString(operand: unknown, path: string): string {
  if (typeof operand !== 'string') return fail(path, 'the operand must be a string');
  if (!/^[\x20-\x7e]*$/.test(operand)) {
    return fail(
      path,
      `case-insensitive matching supports printable ASCII operands only, got ${JSON.stringify(operand)}`,
    );
  }
  return operand;
}

function affix(operator: 'prefix' | 'suffix', operand: unknown, path: string): Matcher {
  if (typeof operand === 'string') return { kind: operator, value: operand, ignoreCase: false };
  if (isObject(operand) && Object.keys(operand).length === 1 && 'equals-ignore-case' in operand) {
    const value = asciiString(operand['equals-ignore-case'], `${path}.equals-ignore-case`);
    return { kind: operator, value, ignoreCase: true };
  }
  return fail(path, `${operator} takes a string or {"equals-ignore-case": string}`);
}

function wildcard(operand: unknown, path: string): WildcardPattern {
  if (typeof operand !== 'string') return fail(path, 'wildcard takes a string');
  const parsed = parseWildcard(operand);
  return typeof parsed === 'string' ? fail(path, parsed) : parsed;
}

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

/** `[op, n]`, or a range written lower bound first: `[">" | ">=", n, "<" | "<=", m]` with n < m. */
function numeric(operand: unknown, path: string): Matcher {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    return fail(path, 'numeric takes [operator, number] or [">"|">=", low, "<"|"<=", high]');
  }
  const [op, value, op2, value2] = operand;
  if (typeof value !== 'number') return fail(path, `the value after "${String(op)}" must be a number`);
  const first = comparable(value, path);
  if (operand.length === 2) {
    switch (op) {
      case '=':
        return {
          kind: 'numeric',
          lower: { millionths: first, inclusive: true },
          upper: { millionths: first, inclusive: true },
        };
      case '>':
      case '>=':
        return { kind: 'numeric', lower: { millionths: first, inclusive: op === '>=' } };
      case '<':
      case '<=':
        return { kind: 'numeric', upper: { millionths: first, inclusive: op === '<=' } };
      default:
        return fail(path, `unknown numeric operator ${JSON.stringify(op)}`);
    }
  }
  if (typeof op !== 'string' || !LOWER.has(op)) return fail(path, 'a numeric range starts with ">" or ">="');
  if (typeof op2 !== 'string' || !UPPER.has(op2)) return fail(path, 'a numeric range ends with "<" or "<="');
  if (typeof value2 !== 'number') return fail(path, `the value after "${op2}" must be a number`);
  const second = comparable(value2, path);
  if (first >= second) return fail(path, 'the lower bound must be less than the upper bound');
  return {
    kind: 'numeric',
    lower: { millionths: first, inclusive: op === '>=' },
    upper: { millionths: second, inclusive: op2 === '<=' },
  };
}

/**
 * `a.b.c.d/n` (n ≤ 31) or an IPv6 block (n ≤ 127), as Event Ruler accepts them. A base with host bits set is
 * refused: implementations disagree on whether the block then starts at the base or is rounded down.
 */
function cidr(operand: unknown, path: string): IpRange {
  if (typeof operand !== 'string') return fail(path, 'cidr takes a string such as "10.0.0.0/24"');
  const parts = operand.split('/');
  const [address = '', mask = ''] = parts;
  if (parts.length !== 2 || mask === '') return fail(path, `malformed CIDR "${operand}": one "/" required`);
  if (!/^[+-]?\d+$/.test(mask))
    return fail(path, `malformed CIDR "${operand}": mask bits must be an integer`);
  const bits = Number(mask);
  if (bits < 0) return fail(path, `malformed CIDR "${operand}": mask bits must not be negative`);
  if (hasPaddedOctet(address))
    return fail(path, `"${address}" has a zero-padded octet, which IP parsers read differently`);
  const base = looksLikeIp(address) ? parseIp(address) : undefined;
  if (base === undefined) return fail(path, `"${address}" is not an IPv4 or IPv6 address`);
  if (base.length === 4 && address.includes(':')) {
    return fail(path, `"${address}" is an IPv4-mapped IPv6 address; write the IPv4 block instead`);
  }
  const maxBits = base.length === 4 ? 31 : 127;
  if (bits > maxBits)
    return fail(path, `${base.length === 4 ? 'IPv4' : 'IPv6'} mask bits must be at most ${maxBits}`);
  const range = cidrRange(base, bits);
  if (range.hostBitsSet) {
    return fail(path, `"${operand}" has host bits set; write the block's first address instead`);
  }
  return range;
}

const NESTABLE_IN_ANYTHING_BUT = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

/** Returns the exclusion test for one anything-but operand. */
function anythingBut(operand: unknown, path: string): (value: Scalar) => boolean {
  if (typeof operand === 'string') return (v) => v === operand;
  if (typeof operand === 'number') {
    const excluded = comparable(operand, path);
    return (v) => typeof v === 'number' && comparableNumber(v) === excluded;
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) return fail(path, 'anything-but takes a non-empty list');
    if (operand.every((v): v is string => typeof v === 'string')) {
      const excluded = new Set(operand);
      return (v) => typeof v === 'string' && excluded.has(v);
    }
    if (operand.every((v): v is number => typeof v === 'number')) {
      const excluded = new Set(operand.map((v, i) => comparable(v, `${path}[${i}]`)));
      return (v) => {
        const millionths = typeof v === 'number' ? comparableNumber(v) : undefined;
        return millionths !== undefined && excluded.has(millionths);
      };
    }
    return fail(path, 'an anything-but list holds only strings or only numbers');
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const [inner] = keys;
    if (keys.length !== 1 || inner === undefined || !NESTABLE_IN_ANYTHING_BUT.has(inner)) {
      return fail(path, 'anything-but nests exactly one of prefix, suffix, equals-ignore-case, wildcard');
    }
    const raw = operand[inner];
    const operands = Array.isArray(raw) ? raw : [raw];
    if (operands.length === 0) return fail(`${path}.${inner}`, 'an empty list excludes nothing');
    const matchers = operands.map((one, i) => {
      const at = Array.isArray(raw) ? `${path}[${i}]` : path;
      if (typeof one !== 'string')
        return fail(`${at}.${inner}`, `${inner} inside anything-but takes strings`);
      if ((inner === 'prefix' || inner === 'suffix') && one === '') {
        return fail(`${at}.${inner}`, 'an empty prefix or suffix is not allowed inside anything-but');
      }
      return compileMatcher({ [inner]: one }, at);
    });
    return (v) => typeof v === 'string' && matchers.some((m) => matchesScalar(m, v));
  }
  return fail(path, 'anything-but takes a string, a number, a list of either, or a nested string operator');
}

// ---------------------------------------------------------------------------------------------------------------
// Matching

const EMPTY = Object.freeze({});

function matchesAlternative(alternative: Alternative, node: unknown): boolean {
  const object = isObject(node) ? node : undefined;
  for (const [key, expected] of alternative) {
    const present = object !== undefined && Object.hasOwn(object, key);
    const actual = present ? object[key] : undefined;
    if (expected instanceof Map) {
      // A missing or non-object value is matched as `{}`: only `exists: false` leaves can then match.
      if (!Array.isArray(actual)) {
        if (!matchesAlternative(expected, isObject(actual) ? actual : EMPTY)) return false;
        continue;
      }
      const candidates = objectsOf(actual);
      const offered = candidates.length > 0 ? candidates : [EMPTY];
      if (!offered.some((candidate) => matchesAlternative(expected, candidate))) return false;
    } else if (!matchesLeaf(expected, present, actual)) {
      return false;
    }
  }
  return true;
}

function matchesLeaf(matchers: readonly Matcher[], present: boolean, actual: unknown): boolean {
  // The usual case, a field holding one value, without building the list of leaves an array offers.
  if (!Array.isArray(actual)) {
    const leaf = present && isScalar(actual);
    for (const m of matchers) {
      if (m.kind === 'exists' ? m.value === leaf : leaf && matchesScalar(m, actual as Scalar)) return true;
    }
    return false;
  }
  const scalars = scalarsOf(actual);
  if (matchers.some((m) => m.kind === 'exists' && m.value === scalars.length > 0)) return true;
  return scalars.some((scalar) => matchers.some((m) => m.kind !== 'exists' && matchesScalar(m, scalar)));
}

const isScalar = (value: unknown): value is Scalar =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** The leaves an event value offers: itself, or every scalar element of its (nested) arrays. */
function scalarsOf(value: unknown, depth = 0): Scalar[] {
  if (Array.isArray(value)) return depth > MAX_DEPTH ? [] : value.flatMap((v) => scalarsOf(v, depth + 1));
  return isScalar(value) ? [value] : [];
}

function objectsOf(value: unknown, depth = 0): Record<string, unknown>[] {
  if (Array.isArray(value)) return depth > MAX_DEPTH ? [] : value.flatMap((v) => objectsOf(v, depth + 1));
  return isObject(value) ? [value] : [];
}

function matchesScalar(matcher: Matcher, value: Scalar): boolean {
  switch (matcher.kind) {
    case 'string':
      return value === matcher.value;
    case 'ip': {
      const address = typeof value === 'string' ? parseIp(value) : undefined;
      return (
        address !== undefined &&
        address.length === matcher.address.length &&
        compareIp(address, matcher.address) === 0
      );
    }
    case 'number':
      return typeof value === 'number' && comparableNumber(value) === matcher.millionths;
    case 'literal':
      return value === matcher.value;
    case 'prefix':
      if (typeof value !== 'string') return false;
      return matcher.ignoreCase
        ? startsWithIgnoreCase(value, matcher.value)
        : value.startsWith(matcher.value);
    case 'suffix':
      if (typeof value !== 'string') return false;
      return matcher.ignoreCase ? endsWithIgnoreCase(value, matcher.value) : value.endsWith(matcher.value);
    case 'equals-ignore-case':
      return typeof value === 'string' && equalsIgnoreCase(value, matcher.value);
    case 'wildcard':
      return typeof value === 'string' && matchesWildcard(value, matcher.segments);
    case 'numeric':
      return typeof value === 'number' && withinBounds(comparableNumber(value), matcher);
    case 'cidr': {
      const address = typeof value === 'string' ? parseIp(value) : undefined;
      return address !== undefined && inRange(address, matcher.range);
    }
    case 'anything-but':
      return !matcher.excludes(value);
    case 'exists':
      return false;
  }
}

function withinBounds(millionths: bigint | undefined, { lower, upper }: { lower?: Bound; upper?: Bound }) {
  if (millionths === undefined) return false;
  if (lower && (lower.inclusive ? millionths < lower.millionths : millionths <= lower.millionths))
    return false;
  if (upper && (upper.inclusive ? millionths > upper.millionths : millionths >= upper.millionths))
    return false;
  return true;
}
