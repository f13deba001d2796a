import type { DuckDBConnection } from '@duckdb/node-api';
import * as z from 'zod';

/**
 * The local counterpart of Athena's DataScannedInBytes: the bytes DuckDB read from the lake's files while a
 * statement ran. DuckDB's profiler has no such figure for files it does not own (its `total_bytes_read` counts
 * a few kilobytes for a column of megabytes), so the meter uses DuckDB's file-system log, which records every
 * read with its size: a Parquet scan reads its footers and the column chunks of the row groups it keeps, a JSON
 * scan the whole files of the partitions it keeps, as Athena bills them. Reads of DuckDB's own database file,
 * its write-ahead log and its spill folder are not table data and are left out.
 *
 * One connection runs one statement at a time (duckdb-query-engine.ts), so the log between two statements is
 * the statement's own. The log lives in memory and is emptied at every statement.
 */
export interface ScanMeter {
  /** Forgets what was read so far: the next `bytesRead` counts from here. */
  reset(): Promise<void>;
  bytesRead(): Promise<number>;
}

/** The open database's file (NULL in memory); its `.wal` and default spill folder share the prefix. */
const DATABASE_FILE = '(SELECT path FROM duckdb_databases() WHERE database_name = current_database())';

const BytesRowSchema = z.object({ bytes: z.bigint() });

/** Must run before the configuration is locked (duckdb-sandbox.ts): it turns DuckDB's file-system log on. */
export async function startScanMeter(connection: DuckDBConnection): Promise<ScanMeter> {
  await connection.run("CALL enable_logging('FileSystem')");
  const reset = async (): Promise<void> => {
    await connection.run('CALL truncate_duckdb_logs()');
  };
  await reset();
  return {
    reset,
    bytesRead: async () => {
      const reader = await connection.runAndReadAll(
        `SELECT CAST(coalesce(sum(bytes), 0) AS BIGINT) AS bytes
         FROM duckdb_logs_parsed('FileSystem')
         WHERE op = 'READ'
           AND NOT coalesce(starts_with(path, nullif(${DATABASE_FILE}, '')), false)
           AND NOT coalesce(starts_with(path, nullif(current_setting('temp_directory'), '')), false)`,
      );
      const [row] = reader.getRowObjectsJS();
      return Number(BytesRowSchema.parse(row).bytes);
    },
  };
}
