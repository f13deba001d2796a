import { TerminalError, TransientError } from '../../shared/errors.js';

/**
 * What went wrong, for counting: an HTTP status, a connection that failed, a body that stopped short, or a body
 * that is not JSON at all (a proxy's or a login wall's HTML page).
 */
export type TransientKind = 'http' | 'network' | 'truncated' | 'content-type';

/** The API may answer differently later: 429, 5xx, network failures, timeouts, a body cut short. */
export class FleetApiTransientError extends TransientError {
  override readonly name = 'FleetApiTransientError';
  readonly kind: TransientKind;

  constructor(
    message: string,
    /** HTTP status, when there was a response. */
    readonly status: number | undefined,
    /** From `Retry-After`, when the API sent one: no attempt may start sooner. */
    readonly retryAfterMs: number | undefined,
    options?: ErrorOptions & { kind?: TransientKind },
  ) {
    super(message, options);
    this.kind = options?.kind ?? (status === undefined ? 'network' : 'http');
  }
}

/** Asking again cannot help: rejected credentials, other 4xx, a body that breaks the contract. */
export class FleetApiTerminalError extends TerminalError {
  override readonly name = 'FleetApiTerminalError';

  constructor(
    message: string,
    readonly status: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export type FleetApiError = FleetApiTransientError | FleetApiTerminalError;

/** Structural, since errors may cross realms (jest's VM contexts) where `instanceof` fails. */
export function isFleetApiError(error: unknown): error is FleetApiError {
  if (typeof error !== 'object' || error === null || !('name' in error)) return false;
  return error.name === 'FleetApiTransientError' || error.name === 'FleetApiTerminalError';
}

export function isTransientFleetApiError(error: unknown): error is FleetApiTransientError {
  return isFleetApiError(error) && error.name === 'FleetApiTransientError';
}
