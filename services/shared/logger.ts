/**
 * Structured JSON log lines, one per call, as CloudWatch Logs Insights reads them. Locally the runtime passes a
 * quieter logger so progress stays readable.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(
  service: string,
  write: (line: string) => void = (line) => console.log(line),
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      write(JSON.stringify({ level, service, message, ...fields, time: new Date().toISOString() }));
  return { info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
