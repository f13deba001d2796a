import {
  type AttributeValue,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { type Dataset, DatasetSchema, type DateWindow } from '../../../../events/index.js';
import { type Clock, systemClock } from '../../../ports/clock.js';
import type {
  DatasetPlan,
  DatasetProgress,
  DrainClaim,
  DrainClaimant,
  RunLedger,
  RunProgress,
  StoredPageRecord,
} from '../../../ports/run-ledger.js';
import { TerminalError, TransientError } from '../../../shared/errors.js';
import { awsErrorName, classifyAwsError, field } from '../aws-error.js';
import { backoffDelayMs, realSleep, retryPolicy } from '../retry.js';

export interface DynamoDbRunLedgerOptions {
  /** A table keyed by `pk` (string, partition) and `sk` (string, sort). */
  tableName: string;
  clock?: Clock;
}

/**
 * One item collection per run (pk = runId):
 *   PLAN#<dataset>               totalPages, windowFrom, windowTo, windowTimeZone
 *   PAGE#<dataset>#<page:7>      rows, sha256 (when the downloader sent it): one item per distinct stored page,
 *                                written once
 *   DATASET#<dataset>            storedPages, rows: counters, moved only together with a new PAGE item
 *   FAILED#<dataset>#<page:7>    reason, failedAt: a page that gave up and is not stored since
 *   DRAINED                      claimant, claimedAt: the run's DownloadsDrained is claimed; leaseExpiresAt (epoch
 *                                ms) while it is not yet confirmed as published, confirmedAt once it is
 *   FINISHED                     finishedAt: exists once the run's EtlDone was seen
 */
const planKey = (dataset: Dataset) => `PLAN#${dataset}`;
const pageKey = (dataset: Dataset, page: number) => `PAGE#${dataset}#${String(page).padStart(7, '0')}`;
const datasetKey = (dataset: Dataset) => `DATASET#${dataset}`;
const failureKey = (dataset: Dataset, page: number) => `FAILED#${dataset}#${String(page).padStart(7, '0')}`;
const DRAINED_KEY = 'DRAINED';
const FINISHED_KEY = 'FINISHED';
const RESET_ATTEMPTS = 5;

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

const StringAttribute = z.object({ S: z.string() }).transform((attribute) => attribute.S);
const CountAttribute = z
  .object({ N: z.string().regex(/^\d+$/) })
  .transform((attribute) => Number(attribute.N))
  .refine(Number.isSafeInteger, 'a count beyond 2^53');

const PlanItem = z.object({
  sk: StringAttribute.pipe(
    z
      .string()
      .startsWith('PLAN#')
      .transform((sk) => sk.slice('PLAN#'.length)),
  ),
  totalPages: CountAttribute,
  pageSize: CountAttribute.optional(),
  windowFrom: StringAttribute,
  windowTo: StringAttribute,
  windowTimeZone: StringAttribute,
});
const CounterItem = z.object({
  sk: StringAttribute.pipe(
    z
      .string()
      .startsWith('DATASET#')
      .transform((sk) => sk.slice('DATASET#'.length)),
  ),
  storedPages: CountAttribute.default(0),
  rows: CountAttribute.default(0),
});

const PageItem = z.object({
  rows: CountAttribute,
  sha256: StringAttribute.pipe(z.string().regex(/^[0-9a-f]{64}$/)).optional(),
});

const FailureItem = z.object({
  sk: StringAttribute.pipe(
    z
      .string()
      .regex(/^FAILED#[a-z]+#\d{7}$/)
      .transform((sk) => {
        const [, dataset = '', page = '0'] = sk.split('#');
        return { dataset, page: Number(page) };
      }),
  ),
  reason: StringAttribute,
});

/**
 * The DRAINED item. Without leaseExpiresAt the claim is confirmed, or was written before claims had leases (then
 * it has no claimant either): both mean announced.
 */
const DrainedItem = z.object({
  claimant: StringAttribute.optional(),
  leaseExpiresAt: CountAttribute.optional(),
});
/** A claim whose item vanished or lapsed between the failed put and the read is asked for again. */
const CLAIM_ATTEMPTS = 3;

/** The first cancellation reason is the PAGE put's; "None" marks a reason-less item. */
const CancellationReasons = z.array(z.object({ Code: z.string().optional() }));
const TRANSIENT_CANCELLATIONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

function windowOf(plan: z.infer<typeof PlanItem>): DateWindow {
  return { from: plan.windowFrom, to: plan.windowTo, timeZone: plan.windowTimeZone };
}

function sameWindow(a: DateWindow, b: DateWindow): boolean {
  return a.from === b.from && a.to === b.to && a.timeZone === b.timeZone;
}

/** The RunLedger port over one DynamoDB table, with conditional writes so every method is idempotent. */
export class DynamoDbRunLedger implements RunLedger {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(client: DynamoDBClient, options: DynamoDbRunLedgerOptions) {
    this.#client = client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Records the plan unless a different total is recorded: the same plan again changes nothing, a different
   * total for the same run and dataset means two planners disagree, which retrying cannot settle. The window
   * first recorded is kept, as the local ledger does (the run id is derived from it, so they cannot differ).
   */
  async recordPlan(runId: string, dataset: Dataset, plan: DatasetPlan): Promise<void> {
    // A plan's page size, when it has one, is recorded once and must match after: the same page count of another
    // page size holds other rows under the same page numbers.
    const withPageSize = plan.pageSize !== undefined;
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: S(runId), sk: S(planKey(dataset)) },
          UpdateExpression:
            'SET totalPages = :totalPages, windowFrom = if_not_exists(windowFrom, :from), ' +
            'windowTo = if_not_exists(windowTo, :to), windowTimeZone = if_not_exists(windowTimeZone, :timeZone)' +
            (withPageSize ? ', pageSize = if_not_exists(pageSize, :pageSize)' : ''),
          ConditionExpression: withPageSize
            ? '(attribute_not_exists(pk) OR totalPages = :totalPages) AND ' +
              '(attribute_not_exists(pageSize) OR pageSize = :pageSize)'
            : 'attribute_not_exists(pk) OR totalPages = :totalPages',
          ExpressionAttributeValues: {
            ':totalPages': N(plan.totalPages),
            ':from': S(plan.window.from),
            ':to': S(plan.window.to),
            ':timeZone': S(plan.window.timeZone),
            ...(plan.pageSize === undefined ? {} : { ':pageSize': N(plan.pageSize) }),
          },
          // The recorded plan comes back with the error, for the message, without a second read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') {
        throw classifyAwsError(error, `recording the ${dataset} plan of run ${runId}`);
      }
      const recorded = PlanItem.safeParse(field(error, 'Item'));
      const size = (pageSize: number | undefined) => (pageSize === undefined ? '' : ` of ${pageSize} rows`);
      const was = recorded.success
        ? `${recorded.data.totalPages} pages${size(recorded.data.pageSize)}`
        : 'a different plan';
      throw new TerminalError(
        `run ${runId} ${dataset}: a plan of ${plan.totalPages} pages${size(plan.pageSize)} conflicts with the recorded ${was}`,
        { cause: error },
      );
    }
  }

  /**
   * The PAGE item and the dataset's counters change in one transaction, and the PAGE put is conditional, so
   * a page is counted once however often its event is delivered
   * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
   */
  async recordPage(
    runId: string,
    dataset: Dataset,
    page: number,
    rows: number,
    sha256?: string,
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.#table,
                Item: {
                  pk: S(runId),
                  sk: S(pageKey(dataset, page)),
                  rows: N(rows),
                  ...(sha256 === undefined ? {} : { sha256: S(sha256) }),
                  recordedAt: S(this.#clock.now().toISOString()),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.#table,
                Key: { pk: S(runId), sk: S(datasetKey(dataset)) },
                // ROWS is a DynamoDB reserved word, hence the name placeholder.
                UpdateExpression: 'ADD storedPages :one, #rows :rows',
                ExpressionAttributeNames: { '#rows': 'rows' },
                ExpressionAttributeValues: { ':one': N(1), ':rows': N(rows) },
              },
            },
            // A page stored after it was dead-lettered (a redrive) is no longer a failure of the run.
            { Delete: { TableName: this.#table, Key: { pk: S(runId), sk: S(failureKey(dataset, page)) } } },
          ],
        }),
      );
      return true;
    } catch (error) {
      const action = `recording ${dataset} page ${page} of run ${runId}`;
      if (awsErrorName(error) !== 'TransactionCanceledException') throw classifyAwsError(error, action);
      const parsed = CancellationReasons.safeParse(field(error, 'CancellationReasons'));
      const codes = parsed.success ? parsed.data.map((reason) => reason.Code ?? 'None') : [];
      if (codes[0] === 'ConditionalCheckFailed') return false;
      const message = `${action}: transaction cancelled (${codes.join(', ') || 'no reasons given'})`;
      // Conflicts with a concurrent transaction on the same counter and throttling pass; anything else
      // (ValidationError, ItemCollectionSizeLimitExceeded) will not.
      throw codes.some((code) => TRANSIENT_CANCELLATIONS.has(code))
        ? new TransientError(message, { cause: error })
        : new TerminalError(message, { cause: error });
    }
  }

  /** The PAGE item, read strongly consistent: a page recorded a moment ago is seen. */
  async storedPage(runId: string, dataset: Dataset, page: number): Promise<StoredPageRecord | undefined> {
    let item: Record<string, AttributeValue> | undefined;
    try {
      ({ Item: item } = await this.#client.send(
        new GetItemCommand({
          TableName: this.#table,
          Key: { pk: S(runId), sk: S(pageKey(dataset, page)) },
          ConsistentRead: true,
        }),
      ));
    } catch (error) {
      throw classifyAwsError(error, `reading ${dataset} page ${page} of run ${runId}`);
    }
    if (item === undefined) return undefined;
    const { rows, sha256 } = this.#parse(PageItem, item, runId);
    return sha256 === undefined ? { rows } : { rows, sha256 };
  }

  /**
   * Reads plans and counters, not the page items. Strongly consistent, so a tracker that has just recorded
   * the last page sees it: of two trackers racing on the last two pages, the later reader sees both
   * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html).
   */
  async progress(runId: string): Promise<RunProgress> {
    const [planItems, counterItems, failureItems, drainedItems, finishedItems] = await Promise.all([
      this.#queryPrefix(runId, 'PLAN#'),
      this.#queryPrefix(runId, 'DATASET#'),
      this.#queryPrefix(runId, 'FAILED#'),
      this.#queryPrefix(runId, DRAINED_KEY),
      this.#queryPrefix(runId, FINISHED_KEY),
    ]);
    const datasets: Partial<Record<Dataset, DatasetProgress>> = {};
    const entry = (dataset: Dataset): DatasetProgress => {
      datasets[dataset] ??= { totalPages: undefined, storedPages: 0, rows: 0 };
      return datasets[dataset];
    };
    let window: DateWindow | undefined;
    for (const item of planItems) {
      const plan = this.#parse(PlanItem, item, runId);
      const planWindow = windowOf(plan);
      if (window !== undefined && !sameWindow(window, planWindow)) {
        throw new TerminalError(`run ${runId} has plans over different windows`);
      }
      window = planWindow;
      const planned = entry(this.#dataset(plan.sk, runId));
      planned.totalPages = plan.totalPages;
      if (plan.pageSize !== undefined) planned.pageSize = plan.pageSize;
    }
    for (const item of counterItems) {
      const counter = this.#parse(CounterItem, item, runId);
      const progress = entry(this.#dataset(counter.sk, runId));
      progress.storedPages = counter.storedPages;
      progress.rows = counter.rows;
    }
    const failures = failureItems.map((item) => {
      const failure = this.#parse(FailureItem, item, runId);
      return {
        dataset: this.#dataset(failure.sk.dataset, runId),
        page: failure.sk.page,
        reason: failure.reason,
      };
    });
    return {
      window,
      datasets,
      failures,
      drained: drainedItems.some((item) => item.sk?.S === DRAINED_KEY),
      finished: finishedItems.some((item) => item.sk?.S === FINISHED_KEY),
    };
  }

  /**
   * Recorded only while the page is not stored: the ConditionCheck on its PAGE item and the FAILED put succeed
   * or fail together, so a late failure of a duplicate attempt cannot mark a stored page as failed.
   */
  async recordPageFailure(runId: string, dataset: Dataset, page: number, reason: string): Promise<void> {
    try {
      await this.#client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.#table,
                Key: { pk: S(runId), sk: S(pageKey(dataset, page)) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.#table,
                Item: {
                  pk: S(runId),
                  sk: S(failureKey(dataset, page)),
                  reason: S(reason.slice(0, 4_000)),
                  failedAt: S(this.#clock.now().toISOString()),
                },
              },
            },
          ],
        }),
      );
    } catch (error) {
      const action = `recording the failure of ${dataset} page ${page} of run ${runId}`;
      if (awsErrorName(error) !== 'TransactionCanceledException') throw classifyAwsError(error, action);
      const parsed = CancellationReasons.safeParse(field(error, 'CancellationReasons'));
      const codes = parsed.success ? parsed.data.map((r) => r.Code ?? 'None') : [];
      if (codes[0] === 'ConditionalCheckFailed') return;
      throw new TransientError(
        `${action}: transaction cancelled (${codes.join(', ') || 'no reasons given'})`,
        {
          cause: error,
        },
      );
    }
  }

  async releaseClaim(runId: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteItemCommand({ TableName: this.#table, Key: { pk: S(runId), sk: S(DRAINED_KEY) } }),
      );
    } catch (error) {
      throw classifyAwsError(error, `releasing the drained claim of run ${runId}`);
    }
  }

  async markFinished(runId: string): Promise<void> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: { pk: S(runId), sk: S(FINISHED_KEY), finishedAt: S(this.#clock.now().toISOString()) },
        }),
      );
    } catch (error) {
      throw classifyAwsError(error, `marking run ${runId} finished`);
    }
  }

  /**
   * One conditional put: it creates the DRAINED item, or replaces one whose lease has expired (an unconfirmed
   * claim, abandoned). A confirmed item has no lease, so the condition keeps it; of concurrent callers exactly one
   * put passes, as DynamoDB serializes the writes of one item
   * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).
   * The expiry is compared with this caller's clock: the lease's margin covers the clocks' difference.
   */
  async claimDrained(runId: string, claimant: DrainClaimant): Promise<DrainClaim> {
    const action = `claiming the drained announcement of run ${runId}`;
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt += 1) {
      const now = this.#clock.now();
      try {
        const output = await this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: {
              pk: S(runId),
              sk: S(DRAINED_KEY),
              claimant: S(claimant.id),
              claimedAt: S(now.toISOString()),
              leaseExpiresAt: N(claimant.leaseExpiresAt.getTime()),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseExpiresAt < :now',
            ExpressionAttributeValues: { ':now': N(now.getTime()) },
            // The replaced claim, if any: whose lease this caller took over.
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        if (output.Attributes === undefined) return { outcome: 'won' };
        const previous = this.#parse(DrainedItem, output.Attributes, runId);
        return {
          outcome: 'won',
          tookOverFrom: {
            claimant: previous.claimant ?? 'unknown',
            leaseExpiredAt: new Date(previous.leaseExpiresAt ?? 0),
          },
        };
      } catch (error) {
        if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw classifyAwsError(error, action);
        // DynamoDB returns the item that failed the condition; an emulator that does not is read instead.
        const returned = field(error, 'Item');
        const item =
          returned ?? (await this.#queryPrefix(runId, DRAINED_KEY)).find((i) => i.sk?.S === DRAINED_KEY);
        const held = item === undefined ? undefined : this.#parse(DrainedItem, item, runId);
        // Released, or lapsed, since the put: ask again.
        if (held === undefined || (held.leaseExpiresAt ?? Infinity) < now.getTime()) continue;
        if (held.leaseExpiresAt === undefined) return { outcome: 'announced' };
        return {
          outcome: 'held',
          claimant: held.claimant ?? 'unknown',
          leaseExpiresAt: new Date(held.leaseExpiresAt),
        };
      }
    }
    throw new TransientError(`${action}: the claim changed hands ${CLAIM_ATTEMPTS} times while asked for`);
  }

  /**
   * Removes the lease: the claim no longer lapses. Only an existing claim is confirmed; one released meanwhile
   * (a person reset the run) stays released.
   */
  async confirmDrained(runId: string): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: S(runId), sk: S(DRAINED_KEY) },
          UpdateExpression: 'SET confirmedAt = :now REMOVE leaseExpiresAt',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': S(this.#clock.now().toISOString()) },
        }),
      );
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return;
      throw classifyAwsError(error, `confirming the drained announcement of run ${runId}`);
    }
  }

  /** Deletes the run's item collection, 25 keys per BatchWriteItem, re-sending what DynamoDB left unprocessed. */
  async reset(runId: string): Promise<void> {
    const keys = (await this.#queryPrefix(runId, '')).map((item) => ({ pk: S(runId), sk: item.sk ?? S('') }));
    for (let i = 0; i < keys.length; i += 25) {
      let requests: WriteRequest[] = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 1; requests.length > 0; attempt += 1) {
        if (attempt > RESET_ATTEMPTS) {
          throw new TransientError(`run ${runId}: ${requests.length} ledger items left undeleted`);
        }
        if (attempt > 1) await realSleep(backoffDelayMs(attempt - 1, retryPolicy()));
        try {
          const output = await this.#client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.#table]: requests } }),
          );
          requests = output.UnprocessedItems?.[this.#table] ?? [];
        } catch (error) {
          throw classifyAwsError(error, `resetting run ${runId}`);
        }
      }
    }
  }

  /**
   * Every run id the table holds, sorted: a paginated Scan returning only the key of each item other than the PAGE
   * items (a run's many stored pages would repeat its id). For `etl runs` by a person, not for the Lambdas (their
   * role has no Scan): it reads the whole table, which the ledger's expiry keeps to recent nights when set.
   */
  async runIds(): Promise<string[]> {
    const ids = new Set<string>();
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      let output: ScanCommandOutput;
      try {
        output = await this.#client.send(
          new ScanCommand({
            TableName: this.#table,
            ProjectionExpression: 'pk',
            FilterExpression: 'NOT begins_with(sk, :page)',
            ExpressionAttributeValues: { ':page': S('PAGE#') },
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
      } catch (error) {
        throw classifyAwsError(error, `listing the runs of ledger table ${this.#table}`);
      }
      for (const item of output.Items ?? []) {
        const pk = StringAttribute.safeParse(item.pk);
        if (!pk.success)
          throw new TerminalError(`ledger table ${this.#table} has an item without a string pk`);
        ids.add(pk.data);
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return [...ids].sort();
  }

  async #queryPrefix(runId: string, prefix: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      let output: QueryCommandOutput;
      try {
        output = await this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': S(runId), ':prefix': S(prefix) },
            ConsistentRead: true,
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
      } catch (error) {
        throw classifyAwsError(error, `reading the progress of run ${runId}`);
      }
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  #parse<T extends z.ZodType>(schema: T, item: unknown, runId: string): z.infer<T> {
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      throw new TerminalError(`run ${runId}: unreadable ledger item: ${z.prettifyError(parsed.error)}`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  #dataset(name: string, runId: string): Dataset {
    const parsed = DatasetSchema.safeParse(name);
    if (!parsed.success) throw new TerminalError(`run ${runId}: ledger item for unknown dataset "${name}"`);
    return parsed.data;
  }
}
