/** A half-open interval [fromMs, toMs) of creation instants (epoch ms): what the API's date filters select. */
export interface CreationWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** From ISO instants (any offset), dates or epoch milliseconds. */
export function creationWindow(from: string | Date | number, to: string | Date | number): CreationWindow {
  const fromMs = new Date(from).getTime();
  const toMs = new Date(to).getTime();
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) {
    throw new RangeError(`not a creation window: ${String(from)} .. ${String(to)}`);
  }
  return { fromMs, toMs };
}
