/** One Athena-dialect statement's outcome. `rows` is present when the statement returns a result set. */
export interface StatementResult {
  queryExecutionId: string;
  /** Every execution the statement took, in order, when it took more than one (a write split in batches). */
  queryExecutionIds?: string[];
  dataScannedBytes: number;
  durationMs: number;
  result?: ResultSet;
}

export interface ResultSet {
  columns: string[];
  rows: Record<string, JsonValue>[];
}

export type JsonValue = string | number | boolean | null;

export interface StatementContext {
  runId: string;
  file: string;
  /** 0-based position of the statement in its file; with runId and file it identifies the statement. */
  statementIndex: number;
  /**
   * Which delivery runs the statement: the id of the event that triggered the file. A redelivery of the same
   * event carries the same attempt, so an engine may resume or reuse what that delivery started; a deliberate
   * re-run of the run (a new DownloadsDrained, a new chain of SqlFileExecuted) carries a new one, so the
   * engine runs the statement again and replaces what the earlier attempt wrote (docs/decisions/0020).
   */
  attempt: string;
}

/** Athena in the cloud, DuckDB locally. Statements are written in Athena's dialect either way. */
export interface QueryEngine {
  execute(sql: string, context: StatementContext): Promise<StatementResult>;
}
