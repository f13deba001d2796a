import { createHash } from 'node:crypto';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { z } from 'zod';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { QueryEngine, StatementContext, StatementResult } from '../../ports/query-engine.js';
import { TerminalError, TransientError } from '../../shared/errors.js';
import { readResultSet } from './athena-results.js';
import { awsErrorName, classifyAwsError } from './aws-error.js';
import {
  backoffDelayMs,
  type RetryOptions,
  type RetryPolicy,
  realSleep,
  retryPolicy,
  type Sleep,
} from './retry.js';

export interface AthenaPollOptions {
  /** First wait before asking how the query is doing; doubled after every answer, up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * How long `execute` waits before giving up with a TransientError. Keep it under the Lambda's timeout: the
   * redelivered event starts nothing new (same ClientRequestToken) and resumes waiting on the same query.
   */
  maxWaitMs?: number;
}

export interface AthenaQueryEngineOptions {
  workGroup: string;
  database: string;
  /** Defaults to Athena's own, AwsDataCatalog. */
  catalog?: string;
  /** Only for a workgroup that does not set its own query result location. */
  outputLocation?: string;
  poll?: AthenaPollOptions;
  /** Retries of StartQueryExecution refused with TooManyRequestsException (the concurrent-query quota). */
  startRetry?: Omit<RetryOptions, 'sleep'>;
  /** Injected so tests run without waiting; used for polling and for start retries. */
  sleep?: Sleep;
  clock?: Clock;
}

/**
 * The idempotency token of one statement of one run: Athena answers a repeated StartQueryExecution with the
 * same token with the same QueryExecutionId instead of starting a second query, so a redelivered event does not
 * run a statement twice. Athena wants 32 to 128 characters; a SHA-256 in hex has 64
 * (https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html).
 */
export function clientRequestToken(context: StatementContext): string {
  return createHash('sha256')
    .update(JSON.stringify([context.runId, context.file, context.statementIndex]))
    .digest('hex');
}

/** What we read from GetQueryExecution; anything else in the answer is ignored. */
const QueryExecutionSchema = z.object({
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
    })
    .optional(),
});
type QueryExecution = z.infer<typeof QueryExecutionSchema>;

/** The statement's first keyword, past leading comments, blanks and parentheses. */
function leadingKeyword(sql: string): string {
  const rest = sql.replace(/^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  return /^[A-Za-z]+/.exec(rest)?.[0].toUpperCase() ?? '';
}

/** Statements that answer with rows, as the local engine classifies them (SELECT, WITH, VALUES, TABLE). */
const QUERY_KEYWORDS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/**
 * Only a query has rows worth reading: Athena also reports INSERT as DML, and DDL, CTAS and UNLOAD write
 * their output elsewhere.
 */
function returnsRows(execution: QueryExecution, sql: string): boolean {
  return execution.StatementType === 'DML' && QUERY_KEYWORDS.has(leadingKeyword(sql));
}

function describe(context: StatementContext): string {
  return `run ${context.runId}, ${context.file}, statement ${context.statementIndex}`;
}

/** The QueryEngine port over Athena: one statement per query, in a configured workgroup and database. */
export class AthenaQueryEngine implements QueryEngine {
  readonly #client: AthenaClient;
  readonly #options: AthenaQueryEngineOptions;
  readonly #startRetry: RetryPolicy;
  readonly #sleep: Sleep;
  readonly #clock: Clock;
  readonly #poll: Required<AthenaPollOptions>;

  constructor(client: AthenaClient, options: AthenaQueryEngineOptions) {
    this.#client = client;
    this.#options = options;
    this.#sleep = options.sleep ?? realSleep;
    this.#clock = options.clock ?? systemClock;
    this.#startRetry = retryPolicy({
      maxAttempts: 5,
      baseDelayMs: 1_000,
      maxDelayMs: 20_000,
      ...options.startRetry,
      sleep: this.#sleep,
    });
    this.#poll = {
      initialDelayMs: options.poll?.initialDelayMs ?? 500,
      maxDelayMs: options.poll?.maxDelayMs ?? 5_000,
      maxWaitMs: options.poll?.maxWaitMs ?? 600_000,
    };
  }

  async execute(sql: string, context: StatementContext): Promise<StatementResult> {
    const queryExecutionId = await this.#start(sql, context);
    const execution = await this.#waitUntilDone(queryExecutionId, context);
    const statistics = execution.Statistics;
    const outcome: StatementResult = {
      queryExecutionId,
      dataScannedBytes: statistics?.DataScannedInBytes ?? 0,
      durationMs: statistics?.TotalExecutionTimeInMillis ?? statistics?.EngineExecutionTimeInMillis ?? 0,
    };
    if (!returnsRows(execution, sql)) return outcome;
    return { ...outcome, result: await readResultSet(this.#client, queryExecutionId, describe(context)) };
  }

  /** Starts the statement, or finds the query an earlier delivery of the same event already started. */
  async #start(sql: string, context: StatementContext): Promise<string> {
    const { workGroup, database, catalog, outputLocation } = this.#options;
    const request: StartQueryExecutionCommandInput = {
      QueryString: sql,
      ClientRequestToken: clientRequestToken(context),
      WorkGroup: workGroup,
      QueryExecutionContext: { Database: database, ...(catalog === undefined ? {} : { Catalog: catalog }) },
      ...(outputLocation === undefined ? {} : { ResultConfiguration: { OutputLocation: outputLocation } }),
    };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const output = await this.#client.send(new StartQueryExecutionCommand(request));
        if (output.QueryExecutionId === undefined || output.QueryExecutionId === '') {
          throw new TransientError(
            `Athena StartQueryExecution (${describe(context)}) returned no QueryExecutionId`,
          );
        }
        return output.QueryExecutionId;
      } catch (error) {
        // The SDK already retried throttling a few times; the concurrent-query quota frees up only as other
        // queries finish, so this waits longer, with jitter so that parallel runners do not retry in step.
        if (awsErrorName(error) !== 'TooManyRequestsException' || attempt >= this.#startRetry.maxAttempts) {
          throw classifyAwsError(error, `Athena StartQueryExecution (${describe(context)})`);
        }
        await this.#sleep(backoffDelayMs(attempt, this.#startRetry));
      }
    }
  }

  /** Polls GetQueryExecution with capped exponential backoff until the query is SUCCEEDED, FAILED or CANCELLED. */
  async #waitUntilDone(queryExecutionId: string, context: StatementContext): Promise<QueryExecution> {
    const deadline = this.#clock.now().getTime() + this.#poll.maxWaitMs;
    let delay = this.#poll.initialDelayMs;
    let state = 'QUEUED';
    while (this.#clock.now().getTime() < deadline) {
      await this.#sleep(delay);
      delay = Math.min(delay * 2, this.#poll.maxDelayMs);
      const execution = await this.#describe(queryExecutionId, context);
      if (execution === undefined) continue;
      state = execution.Status.State;
      if (state === 'SUCCEEDED') return execution;
      if (state === 'FAILED' || state === 'CANCELLED')
        throw this.#failure(queryExecutionId, execution, context);
    }
    throw new TransientError(
      `Athena query ${queryExecutionId} (${describe(context)}) still ${state} after ${this.#poll.maxWaitMs} ms; ` +
        'a redelivery resumes waiting on the same query',
    );
  }

  /** One GetQueryExecution; undefined when it failed transiently, since the query runs on regardless. */
  async #describe(queryExecutionId: string, context: StatementContext): Promise<QueryExecution | undefined> {
    let raw: unknown;
    try {
      raw = (await this.#client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId })))
        .QueryExecution;
    } catch (error) {
      const classified = classifyAwsError(
        error,
        `Athena GetQueryExecution ${queryExecutionId} (${describe(context)})`,
      );
      if (classified instanceof TransientError) return undefined;
      throw classified;
    }
    const parsed = QueryExecutionSchema.safeParse(raw);
    if (!parsed.success) {
      throw new TerminalError(
        `Athena GetQueryExecution ${queryExecutionId} (${describe(context)}): unexpected response: ${z.prettifyError(parsed.error)}`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }

  /**
   * A failed query is terminal even when Athena calls its error retryable: a redelivery carries the same
   * ClientRequestToken, so Athena would answer with this same failed execution.
   */
  #failure(queryExecutionId: string, execution: QueryExecution, context: StatementContext): TerminalError {
    const { State, StateChangeReason, AthenaError } = execution.Status;
    const reason = StateChangeReason ?? AthenaError?.ErrorMessage ?? 'Athena gave no reason';
    const hint = AthenaError?.Retryable === true ? ' (Athena marks the error retryable)' : '';
    return new TerminalError(
      `Athena query ${queryExecutionId} (${describe(context)}) ${State}: ${reason}${hint}`,
    );
  }
}
