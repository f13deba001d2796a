import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { currentLogFields } from '../../../shared/log-context.js';
import type { Logger } from '../../../shared/logger.js';

/**
 * The Logger port over Powertools' Logger: each line is one JSON object on stdout with Powertools' keys (level,
 * message, timestamp, service, and after `addContext` the Lambda context: function_name, function_request_id,
 * cold_start, xray_trace_id), the fields of the work running now (runId, dataset, page, file) and the call's own.
 * Powertools writes to stdout itself rather than through Lambda's console, so CloudWatch reads the fields as
 * fields, not as one string.
 */
export function powertoolsLogger(powertools: PowertoolsLogger): Logger {
  return {
    info: (message, fields = {}) => powertools.info(message, { ...currentLogFields(), ...fields }),
    warn: (message, fields = {}) => powertools.warn(message, { ...currentLogFields(), ...fields }),
    error: (message, fields = {}) => powertools.error(message, { ...currentLogFields(), ...fields }),
  };
}
