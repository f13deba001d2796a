import * as z from 'zod';
import { RunIdSchema } from '../../../../events/index.js';
import type { ObjectStore } from '../../../ports/object-store.js';
import { TerminalError } from '../../../shared/errors.js';

/** One Athena query a write statement started: a step of the statement, its token and what it wrote. */
const ExecutionRecordSchema = z.object({
  /** `statement`, or for a write split by partitions: `partitions`, `batch-0`, `batch-1`, ... */
  step: z.string().min(1),
  token: z.string().min(1),
  queryExecutionId: z.string().min(1),
  /** The data manifest's s3:// URL, once the query has finished and Athena has said where it is. */
  manifest: z.string().min(1).optional(),
});
export type ExecutionRecord = z.infer<typeof ExecutionRecordSchema>;

/** A statement of one attempt that wrote a run's files into the table. */
const WriterSchema = z.object({
  file: z.string().min(1),
  statementIndex: z.number().int().min(0),
  attempt: z.string().min(1),
  sqlSha256: z.string().regex(/^[0-9a-f]{64}$/),
  executions: z.array(ExecutionRecordSchema),
});
export type Writer = z.infer<typeof WriterSchema>;

/** Everything of one run that is currently written into one table. */
const TableLogSchema = z.object({
  schemaVersion: z.literal(1),
  runId: RunIdSchema,
  table: z.string().min(1),
  writers: z.array(WriterSchema),
});
export type TableLog = z.infer<typeof TableLogSchema>;

/**
 * Which Athena executions wrote a run's files into a table, kept as one small JSON object per (run, table)
 * in S3 (docs/decisions/0020). Athena's own token only remembers a query for a while and never says which
 * files it wrote; this log outlives both and is what a re-run reads to replace the run's earlier files.
 */
export class StatementLog {
  constructor(private readonly store: ObjectStore) {}

  key(runId: string, table: string): string {
    return `run=${runId}/${encodeURIComponent(table)}.json`;
  }

  async read(runId: string, table: string): Promise<TableLog> {
    const key = this.key(runId, table);
    const body = await this.store.get(key);
    if (body === undefined) return { schemaVersion: 1, runId, table, writers: [] };
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch (error) {
      throw new TerminalError(`statement log ${this.store.location}/${key} is not JSON`, { cause: error });
    }
    const parsed = TableLogSchema.safeParse(json);
    if (!parsed.success) {
      throw new TerminalError(
        `statement log ${this.store.location}/${key} is unreadable: ${z.prettifyError(parsed.error)}`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }

  async write(log: TableLog): Promise<void> {
    await this.store.put(this.key(log.runId, log.table), JSON.stringify(log), {
      contentType: 'application/json',
    });
  }
}
