/**
 * The string operators of EventBridge patterns. Case-insensitive operators accept, at each position, the
 * operand character in lower or upper case; operands are restricted to ASCII (see event-pattern.ts), where that
 * rule has one reading in every implementation.
 */

function sameIgnoringCase(valueChar: string | undefined, operandChar: string | undefined): boolean {
  if (valueChar === undefined || operandChar === undefined) return false;
  return valueChar === operandChar.toLowerCase() || valueChar === operandChar.toUpperCase();
}

function regionIgnoringCase(value: string, start: number, operand: string): boolean {
  for (let i = 0; i < operand.length; i += 1) {
    if (!sameIgnoringCase(value[start + i], operand[i])) return false;
  }
  return true;
}

export function equalsIgnoreCase(value: string, operand: string): boolean {
  return value.length === operand.length && regionIgnoringCase(value, 0, operand);
}

export function startsWithIgnoreCase(value: string, operand: string): boolean {
  return value.length >= operand.length && regionIgnoringCase(value, 0, operand);
}

export function endsWithIgnoreCase(value: string, operand: string): boolean {
  return value.length >= operand.length && regionIgnoringCase(value, value.length - operand.length, operand);
}

/** A wildcard operand: literal runs separated by `*` (escaped `\*` and `\\` are literals). */
export type WildcardPattern = readonly string[];

/**
 * Parses a wildcard operand as Event Ruler's WildcardParser does: `*` matches any sequence (empty included), `\*`
 * a literal asterisk, `\\` a backslash; `**` and any other backslash are errors. Returns the message on error.
 */
export function parseWildcard(operand: string): WildcardPattern | string {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < operand.length; i += 1) {
    const char = operand.charAt(i);
    if (char === '*') {
      if (operand.charAt(i + 1) === '*') return `consecutive wildcard characters at position ${i}`;
      segments.push(current);
      current = '';
    } else if (char === '\\') {
      const next = operand.charAt(i + 1);
      if (next !== '*' && next !== '\\') return `invalid escape character at position ${i}`;
      current += next;
      i += 1;
    } else {
      current += char;
    }
  }
  segments.push(current);
  return segments;
}

/**
 * Glob matching without backtracking blow-up: the first segment anchors the start, the last the end, and each
 * middle segment is found at its leftmost position after the previous one (leftmost is always safe for `*`).
 */
export function matchesWildcard(value: string, segments: WildcardPattern): boolean {
  const first = segments[0] ?? '';
  if (segments.length === 1) return value === first;
  const last = segments[segments.length - 1] ?? '';
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  let position = first.length;
  const end = value.length - last.length;
  for (const middle of segments.slice(1, -1)) {
    const found = value.indexOf(middle, position);
    if (found === -1 || found + middle.length > end) return false;
    position = found + middle.length;
  }
  return true;
}
