/** One Athena-dialect statement's outcome. `rows` is present when the statement returns a result set. */
export interface StatementResult {
  queryExecutionId: string;
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
}

/** Athena in the cloud, DuckDB locally. Statements are written in Athena's dialect either way. */
export interface QueryEngine {
  execute(sql: string, context: StatementContext): Promise<StatementResult>;
}
