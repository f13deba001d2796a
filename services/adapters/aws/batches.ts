import { TerminalError } from '../../shared/errors.js';

export interface BatchLimits<E> {
  maxCount: number;
  maxBytes: number;
  sizeOf: (entry: E) => number;
  label: (entry: E) => string;
}

/**
 * Splits entries, in order, into batches that respect a batch API's two limits: entries per call and bytes per
 * call. An entry that alone exceeds the byte limit can never be sent, which is a bug in its producer.
 */
export function batchesOf<E>(entries: readonly E[], limits: BatchLimits<E>): E[][] {
  const batches: E[][] = [];
  let current: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = limits.sizeOf(entry);
    if (size > limits.maxBytes) {
      throw new TerminalError(
        `${limits.label(entry)} is ${size} bytes, over the ${limits.maxBytes}-byte limit`,
      );
    }
    if (current.length === limits.maxCount || bytes + size > limits.maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
