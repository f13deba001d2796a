/**
 * Numbers as EventBridge compares them. Its matcher (Event Ruler's ComparableNumber) turns every number into an
 * integer count of millionths and compares those: numbers between -5e9 and 5e9 with at most six decimals. A
 * number outside that set has no comparable form: a pattern holding one is refused at rule creation, and an
 * event value holding one never satisfies a numeric matcher (it can only equal a pattern's literal text, which
 * for the numbers we accept it never does).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#filtering-numeric-matching
 */

const MAX_DECIMALS = 6;
const LIMIT_MILLIONTHS = 5_000_000_000n * 1_000_000n;

/**
 * The number as millionths, or undefined when EventBridge cannot compare it. Computed from the number's
 * shortest decimal form (what JSON.stringify writes, so what our bus carries), never from float arithmetic.
 */
export function comparableNumber(value: number): bigint | undefined {
  if (!Number.isFinite(value)) return undefined;
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (match === null) return undefined;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  // digits × 10^(exponent − fraction length) is the value; in millionths the power grows by six.
  let digits = BigInt(`${whole}${fraction}`);
  const power = exponent - fraction.length + MAX_DECIMALS;
  if (power >= 0) {
    digits *= 10n ** BigInt(power);
  } else {
    const divisor = 10n ** BigInt(-power);
    if (digits % divisor !== 0n) return undefined;
    digits /= divisor;
  }
  const millionths = sign === '-' ? -digits : digits;
  if (millionths < -LIMIT_MILLIONTHS || millionths > LIMIT_MILLIONTHS) return undefined;
  return millionths;
}
