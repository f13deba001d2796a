import { type ParseArgsConfig, parseArgs } from 'node:util';
import * as z from 'zod';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parses flags with node's parseArgs (unknown flags are refused) and validates the values with zod, so an error
 * names the flag and what was wrong with it: `--vehicles: expected a whole number ≥ 1, got "abc"`.
 */
export function parseFlags<S extends z.ZodObject>(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  schema: S,
): z.infer<S> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue?.path[0];
    const given = typeof flag === 'string' ? values[flag] : undefined;
    throw new UsageError(
      `--${String(flag ?? '?')}: ${issue?.message ?? 'invalid value'}${given === undefined ? '' : `, got "${String(given)}"`}`,
    );
  }
  return parsed.data;
}

/** A whole number flag given as text, within bounds. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));
