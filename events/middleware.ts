import type { MiddlewareObj } from '@middy/core';
import type { DetailTypeName } from './bus.js';
import { type DetailStoreReader, resolveFleetEvent } from './claim-check.js';
import type { FleetEvent } from './envelope.js';

export interface ValidateFleetEventOptions {
  /**
   * Where details sent by reference are stored (the results store). A consumer of SqlFileExecuted or EtlDone
   * needs it; without it, a reference is refused with an EventValidationError naming its key.
   */
  detailStore?: DetailStoreReader;
}

/**
 * Middy `before` middleware: replaces the raw event with the parsed, typed envelope, or throws
 * EventValidationError so the core never sees an event that breaks the contract. A detail sent by reference is
 * read, checked (key, size, hash) and validated with the same schema, so the core cannot tell the difference.
 */
export function validateFleetEvent<T extends DetailTypeName>(
  accepted: readonly T[],
  options: ValidateFleetEventOptions = {},
): MiddlewareObj<unknown, unknown, Error> {
  return {
    before: async function validateFleetEventBefore(request) {
      request.event = (await resolveFleetEvent(
        request.event,
        accepted,
        options.detailStore,
      )) satisfies FleetEvent<T>;
    },
  };
}
