import { currentLogFields } from './log-context.js';

/**
 * The logging port the cores receive: a message and its fields, one structured line per call. Each
 * implementation adds the fields of the work running now (log-context.ts: runId, dataset, page, file), so a core
 * need not repeat them on every line. In Lambda the entries pass a Powertools-backed one
 * (services/adapters/aws/lambda/powertools-logger.ts); locally the runtime passes `jsonLogger` writing to
 * logs/services.ndjson.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line: level, service, message, the work's fields, the call's fields, time. */
export function jsonLogger(
  service: string,
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      write(
        JSON.stringify({
          level,
          service,
          message,
          ...currentLogFields(),
          ...fields,
          time: new Date().toISOString(),
        }),
      );
  return { info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
