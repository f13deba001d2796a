/**
 * Athena's error catalog (https://docs.aws.amazon.com/athena/latest/ug/error-reference.html): ErrorCategory 1 is
 * SYSTEM, 2 USER, 3 OTHER; the ErrorType values the twin reports.
 */
export const ErrorType = {
  userError: 1000,
  ddlTaskFailed: 1003,
  syntaxError: 1006,
  queryRejected: 1008,
  invalidTableProperty: 1103,
  tableNotFound: 1110,
  queryNotSupported: 1200,
  permissionError: 1500,
  s3PermissionError: 1501,
  failedToWriteResults: 401,
} as const;

/** Why a query ended FAILED (or CANCELLED): what GetQueryExecution reports in Status. */
export class AthenaQueryFailure extends Error {
  override readonly name = 'AthenaQueryFailure';

  constructor(
    message: string,
    readonly errorType: number,
    readonly errorCategory: 1 | 2 | 3 = 2,
    readonly state: 'FAILED' | 'CANCELLED' = 'FAILED',
  ) {
    super(message);
  }
}
