import {
  type AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import * as z from 'zod';
import type { Clock } from '../../../ports/clock.js';
import { TerminalError, TransientError } from '../../../shared/errors.js';
import { awsErrorName, classifyAwsError } from '../aws-error.js';
import { backoffDelayMs, type RetryPolicy, type Sleep } from '../retry.js';

/** What we read from GetQueryExecution; anything else in the answer is ignored. */
export const QueryExecutionSchema = z.object({
  StatementType: z.string().optional(),
  Status: z.object({
    State: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']),
    StateChangeReason: z.string().optional(),
    AthenaError: z
      .object({ ErrorMessage: z.string().optional(), Retryable: z.boolean().optional() })
      .optional(),
  }),
  Statistics: z
    .object({
      DataScannedInBytes: z.number().int().min(0).optional(),
      TotalExecutionTimeInMillis: z.number().min(0).optional(),
      EngineExecutionTimeInMillis: z.number().min(0).optional(),
      /**
       * The data manifest of a CTAS or INSERT INTO: the files the query wrote, or meant to write when it
       * failed (https://docs.aws.amazon.com/athena/latest/ug/querying-finding-output-files.html).
       */
      DataManifestLocation: z.string().min(1).optional(),
    })
    .optional(),
});
export type QueryExecution = z.infer<typeof QueryExecutionSchema>;

export type FinishedExecution = QueryExecution & {
  Status: { State: 'SUCCEEDED' | 'FAILED' | 'CANCELLED' };
};

export interface PollSettings {
  initialDelayMs: number;
  maxDelayMs: number;
  maxWaitMs: number;
}

export interface StartRequest {
  sql: string;
  token: string;
  workGroup: string;
  database: string;
  catalog?: string;
  outputLocation?: string;
}

/** StartQueryExecution and GetQueryExecution with the waiting and retrying each needs. */
export class AthenaExecutions {
  constructor(
    private readonly client: AthenaClient,
    private readonly settings: {
      poll: PollSettings;
      startRetry: RetryPolicy;
      sleep: Sleep;
      clock: Clock;
    },
  ) {}

  /**
   * Starts a query, or gets back the one an earlier call with the same token started: Athena answers a
   * repeated token with the same QueryExecutionId instead of starting a second query
   * (https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html).
   */
  async start(request: StartRequest, where: string): Promise<string> {
    const input: StartQueryExecutionCommandInput = {
      QueryString: request.sql,
      ClientRequestToken: request.token,
      WorkGroup: request.workGroup,
      QueryExecutionContext: {
        Database: request.database,
        ...(request.catalog === undefined ? {} : { Catalog: request.catalog }),
      },
      ...(request.outputLocation === undefined
        ? {}
        : { ResultConfiguration: { OutputLocation: request.outputLocation } }),
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const output = await this.client.send(new StartQueryExecutionCommand(input));
        if (output.QueryExecutionId === undefined || output.QueryExecutionId === '') {
          throw new TransientError(`Athena StartQueryExecution (${where}) returned no QueryExecutionId`);
        }
        return output.QueryExecutionId;
      } catch (error) {
        // The SDK already retried throttling a few times; the concurrent-query quota frees up only as other
        // queries finish, so this waits longer, with jitter so that parallel runners do not retry in step.
        if (
          awsErrorName(error) !== 'TooManyRequestsException' ||
          attempt >= this.settings.startRetry.maxAttempts
        ) {
          throw classifyAwsError(error, `Athena StartQueryExecution (${where})`);
        }
        await this.settings.sleep(backoffDelayMs(attempt, this.settings.startRetry));
      }
    }
  }

  /** Polls with capped exponential backoff until the query is SUCCEEDED, FAILED or CANCELLED. */
  async waitUntilDone(queryExecutionId: string, where: string): Promise<FinishedExecution> {
    const { poll, clock, sleep } = this.settings;
    const deadline = clock.now().getTime() + poll.maxWaitMs;
    let delay = poll.initialDelayMs;
    let state = 'QUEUED';
    while (clock.now().getTime() < deadline) {
      await sleep(delay);
      delay = Math.min(delay * 2, poll.maxDelayMs);
      const execution = await this.describe(queryExecutionId, where);
      if (execution === undefined) continue;
      if (isFinished(execution)) return execution;
      state = execution.Status.State;
    }
    throw new TransientError(
      `Athena query ${queryExecutionId} (${where}) still ${state} after ${poll.maxWaitMs} ms; ` +
        'a redelivery resumes waiting on the same query',
    );
  }

  /** One GetQueryExecution; undefined when it failed transiently, since the query runs on regardless. */
  async describe(queryExecutionId: string, where: string): Promise<QueryExecution | undefined> {
    let raw: unknown;
    try {
      raw = (await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId })))
        .QueryExecution;
    } catch (error) {
      const classified = classifyAwsError(error, `Athena GetQueryExecution ${queryExecutionId} (${where})`);
      if (classified instanceof TransientError) return undefined;
      throw classified;
    }
    const parsed = QueryExecutionSchema.safeParse(raw);
    if (!parsed.success) {
      throw new TerminalError(
        `Athena GetQueryExecution ${queryExecutionId} (${where}): unexpected response: ${z.prettifyError(parsed.error)}`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }
}

export function isFinished(execution: QueryExecution): execution is FinishedExecution {
  const { State } = execution.Status;
  return State === 'SUCCEEDED' || State === 'FAILED' || State === 'CANCELLED';
}

/** Athena's reason for a FAILED or CANCELLED query, as the failure event should carry it. */
export function failureReason(execution: QueryExecution): string {
  const { StateChangeReason, AthenaError } = execution.Status;
  return StateChangeReason ?? AthenaError?.ErrorMessage ?? 'Athena gave no reason';
}
