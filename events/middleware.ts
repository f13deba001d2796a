import type { MiddlewareObj } from '@middy/core';
import type { DetailTypeName } from './bus.js';
import { type FleetEvent, parseFleetEvent } from './envelope.js';

/**
 * Middy `before` middleware: replaces the raw event with the parsed, typed envelope, or throws
 * EventValidationError so the core never sees an event that breaks the contract.
 */
export function validateFleetEvent<T extends DetailTypeName>(
  accepted: readonly T[],
): MiddlewareObj<unknown, unknown, Error> {
  return {
    before: function validateFleetEventBefore(request) {
      request.event = parseFleetEvent(request.event, accepted) satisfies FleetEvent<T>;
    },
  };
}
