import { SQSClient } from '@aws-sdk/client-sqs';
import { stateLayout } from '../local/runtime.js';
import { SqsDeadLetters } from '../services/adapters/aws/sqs/dead-letters.js';
import { SqliteDeadLetters } from '../services/adapters/local/sqlite/sqlite-dead-letters.js';
import { SqliteQueue } from '../services/adapters/local/sqlite/sqlite-queue.js';
import { SqliteRunLedger } from '../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../services/adapters/local/sqlite/state-database.js';
import {
  type DeadLetterMessage,
  type DeadLetters,
  downloadTaskOf,
  pageStoredSince,
} from '../services/ports/dead-letters.js';
import type { RunLedger } from '../services/ports/run-ledger.js';
import { topology } from '../services/topology.js';
import { UsageError } from './args.js';
import { type ParsedFlags, parseFlags } from './command-spec.js';
import { DLQ_ACTIONS, dlqSpec } from './dlq-spec.js';
import { renderTable } from './render.js';
import { holdStateFolder } from './state-folder.js';

type DlqFlags = ParsedFlags<(typeof dlqSpec)['flags']>;

interface Row extends Record<string, string | number | boolean | null> {
  run: string;
  dataset: string;
  page: number | null;
  receives: number | null;
  dead_lettered_at: string;
  /** The page was stored since (a resumed night fetched it): nothing to redrive. Null when no ledger can tell. */
  stored_since: boolean | null;
  reason: string;
}

/**
 * `etl dlq list|redrive`: the tasks that gave up. Locally they are in the state store, with the reason the
 * ledger recorded; with `--queue-url` the same command works on the real dead-letter queue in AWS (credentials
 * and region from the usual AWS environment).
 */
export async function dlqCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'list' && action !== 'redrive') {
    throw new UsageError(
      `etl dlq takes ${DLQ_ACTIONS.map((a) => `"${a}"`).join(' or ')}, got ${action === undefined ? 'nothing' : `"${action}"`}`,
    );
  }
  const flags = parseFlags(dlqSpec, rest);
  if (flags['queue-url'] !== undefined && flags['source-queue-url'] === undefined) {
    throw new UsageError(
      '--source-queue-url is required with --queue-url: the queue the dead letters go back to',
    );
  }
  if (flags['ledger-table'] !== undefined && flags['queue-url'] === undefined) {
    throw new UsageError('--ledger-table goes with --queue-url: locally the ledger is in the state folder');
  }
  // A redrive into the local queue while a run consumes it would hand that run tasks it never counted, so it
  // waits for the run; listing only reads (SQLite lets it read beside a writer).
  const lock =
    action === 'redrive' && flags['queue-url'] === undefined
      ? await holdStateFolder(flags['state-dir'], ['dlq', ...argv], flags.wait)
      : undefined;
  try {
    const { deadLetters, ledger, close } = await open(flags);
    try {
      return action === 'list'
        ? await list(deadLetters, ledger, flags)
        : await redrive(deadLetters, ledger, flags);
    } finally {
      close();
    }
  } finally {
    lock?.release();
  }
}

async function open(flags: DlqFlags): Promise<{
  deadLetters: DeadLetters;
  ledger: RunLedger | undefined;
  close: () => void;
}> {
  const queueUrl = flags['queue-url'];
  const sourceQueueUrl = flags['source-queue-url'];
  if (queueUrl !== undefined && sourceQueueUrl !== undefined) {
    const client = new SQSClient({});
    const table = flags['ledger-table'];
    const ledger = table === undefined ? undefined : await dynamoDbLedger(table);
    return {
      deadLetters: new SqsDeadLetters(client, { deadLetterQueueUrl: queueUrl, sourceQueueUrl }),
      ledger: ledger?.ledger,
      close: () => {
        client.destroy();
        ledger?.close();
      },
    };
  }
  const { state } = stateLayout(flags['state-dir']);
  const db = openStateDatabase(state);
  const queue = new SqliteQueue(db, {
    name: 'tasks',
    visibilityTimeoutMs: 0,
    maxReceiveCount: topology.queues.tasks.maxReceiveCount,
  });
  return {
    deadLetters: new SqliteDeadLetters(queue, state),
    ledger: new SqliteRunLedger(db),
    close: () => db.close(),
  };
}

/** A stage's DynamoDB ledger; the SDK is loaded only when one is named. */
async function dynamoDbLedger(table: string): Promise<{ ledger: RunLedger; close: () => void }> {
  const [{ DynamoDBClient }, { DynamoDbRunLedger }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('../services/adapters/aws/dynamodb/run-ledger.js'),
  ]);
  const client = new DynamoDBClient({});
  return { ledger: new DynamoDbRunLedger(client, { tableName: table }), close: () => client.destroy() };
}

const inRun = (run: string | undefined) => (message: DeadLetterMessage) =>
  run === undefined || downloadTaskOf(message)?.runId === run;

/** The ids of the dead letters whose page is stored since, of those `list` returns. */
async function storedSince(
  messages: readonly DeadLetterMessage[],
  ledger: RunLedger | undefined,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const message of messages) {
    if ((await pageStoredSince(message, ledger)) === true) ids.add(message.messageId);
  }
  return ids;
}

async function list(
  deadLetters: DeadLetters,
  ledger: RunLedger | undefined,
  flags: DlqFlags,
): Promise<number> {
  const messages = (await deadLetters.list(1_000)).filter(inRun(flags.run));
  const rows: Row[] = [];
  for (const message of messages) {
    const task = downloadTaskOf(message);
    const failure = task && ledger ? (await ledger.progress(task.runId)).failures : [];
    const reason = failure.find((f) => f.dataset === task?.dataset && f.page === task?.page)?.reason;
    const stored = (await pageStoredSince(message, ledger)) ?? null;
    rows.push({
      run: task?.runId ?? '?',
      dataset: task?.dataset ?? '?',
      page: task?.page ?? null,
      receives: message.receiveCount ?? null,
      dead_lettered_at:
        message.deadLetteredAt === undefined ? '' : new Date(message.deadLetteredAt).toISOString(),
      stored_since: stored,
      reason: stored
        ? 'resolved: the page is stored since; `etl dlq redrive` removes this letter, nothing to redrive'
        : (reason ??
          (task ? 'see the run’s EtlFailed event' : `not a download task: ${message.body.slice(0, 80)}`)),
    });
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ queue: deadLetters.description, messages: rows })}\n`);
    return 0;
  }
  process.stdout.write(`${rows.length} dead letter(s) in ${deadLetters.description}\n`);
  if (rows.length > 0) process.stdout.write(`${renderTable(Object.keys(rows[0] ?? {}), rows)}\n`);
  return 0;
}

/**
 * Moves the dead letters back to the tasks queue, except those whose page is stored since: a redrive of those would
 * only announce the page again, and leaving them would keep the dead-letter queue (and in AWS its alarm) holding a
 * failure that is over, so they are removed instead.
 */
async function redrive(
  deadLetters: DeadLetters,
  ledger: RunLedger | undefined,
  flags: DlqFlags,
): Promise<number> {
  const chosen = inRun(flags.run);
  const resolved = await storedSince((await deadLetters.list(1_000)).filter(chosen), ledger);
  const removed =
    resolved.size === 0 ? 0 : await deadLetters.discard((message) => resolved.has(message.messageId));
  const moved = await deadLetters.redrive((message) => chosen(message) && !resolved.has(message.messageId));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ queue: deadLetters.description, redriven: moved, removed })}\n`);
    return 0;
  }
  process.stdout.write(`moved ${moved} dead letter(s) back to the tasks queue\n`);
  if (removed > 0) {
    process.stdout.write(
      `removed ${removed} dead letter(s) whose page is stored since: nothing to redrive\n`,
    );
  }
  if (moved > 0 && flags['queue-url'] === undefined) {
    process.stdout.write(
      'run `etl run --date <day>` for the run to resume it: the tasks are received again first\n',
    );
  }
  return 0;
}
