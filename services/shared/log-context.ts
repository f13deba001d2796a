import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Fields every log line written while a piece of work runs carries: the run, and the dataset, page or SQL file
 * where the work is about one. Kept per asynchronous call chain rather than on the logger, because one downloader
 * invocation works on several pages of a batch at once: a logger-wide "current page" would stamp one page's lines
 * with another's number.
 */
export interface LogFields {
  runId?: string;
  dataset?: string;
  page?: number;
  file?: string;
}

const current = new AsyncLocalStorage<LogFields>();

/** Runs `work` with `fields` added to those of the enclosing work (inner values win). */
export function withLogFields<T>(fields: LogFields, work: () => T): T {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return current.run({ ...current.getStore(), ...defined }, work);
}

/** The fields of the work running now; empty outside any. */
export function currentLogFields(): LogFields {
  return current.getStore() ?? {};
}

/**
 * Runs `work` with no fields, as a new Lambda invocation starts. The local runtime delivers an event from inside
 * the work that published it; without this, the consumer's lines would carry the publisher's page.
 */
export function withoutLogFields<T>(work: () => T): T {
  return current.exit(work);
}
