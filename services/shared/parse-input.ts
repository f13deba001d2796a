import type { MiddlewareObj } from '@middy/core';
import * as z from 'zod';
import { TerminalError } from './errors.js';

/** Middy `before` middleware for inputs that are not fleet events (schedule inputs): parse, don't cast. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  what: string,
): MiddlewareObj<unknown, unknown, Error> {
  return {
    before: function parseInputBefore(request) {
      const parsed = schema.safeParse(request.event);
      if (!parsed.success) {
        throw new TerminalError(`invalid ${what}: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
      }
      request.event = parsed.data;
    },
  };
}
