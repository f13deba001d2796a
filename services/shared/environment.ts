import * as z from 'zod';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  readonly retryable = false;
}

/**
 * Parses a Lambda's environment once, at cold start, so a missing or malformed variable fails the deployment's
 * first invocation with its name rather than a later one with an undefined.
 */
export function parseEnvironment<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigurationError(`invalid environment: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export const nonEmpty = z.string().min(1);
export const positiveInt = z.coerce.number().int().min(1);
