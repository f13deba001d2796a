import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { EventPublisher, OutgoingEvent } from '../../../../events/publish.js';
import { TransientError } from '../../../shared/errors.js';
import { classifyAwsError } from '../aws-error.js';
import { batchesOf } from '../batches.js';
import {
  type EntryFailure,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
  sendResendingFailures,
} from '../retry.js';

export interface EventBridgePublisherOptions extends RetryOptions {
  /** Name or ARN of the custom bus. */
  busName: string;
}

/** PutEvents takes at most 10 entries (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html). */
const MAX_BATCH_ENTRIES = 10;
/** ... and less than 256 KB of entries per request. */
const MAX_BATCH_BYTES = 256 * 1024 - 1;

/**
 * Per-entry error codes PutEvents documents as non-retryable: sending the entry again fails again. The
 * documented retryable ones are InternalFailure and ThrottlingException; a code not listed either way is
 * retried, since a few wasted attempts cost less than a dead-lettered run
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html).
 */
const NON_RETRYABLE_CODES = new Set([
  'AccessDeniedException',
  'InvalidAccountIdException',
  'InvalidArgument',
  'MalformedDetail',
  'RedactionFailure',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

/** Entry size as EventBridge counts it (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html). */
function entrySize(entry: PutEventsRequestEntry): number {
  return (
    (entry.Time === undefined ? 0 : 14) +
    Buffer.byteLength(entry.Source ?? '') +
    Buffer.byteLength(entry.DetailType ?? '') +
    Buffer.byteLength(entry.Detail ?? '') +
    (entry.Resources ?? []).reduce((sum, resource) => sum + Buffer.byteLength(resource), 0)
  );
}

/** The EventPublisher port over PutEvents on one custom bus. */
export class EventBridgePublisher implements EventPublisher {
  readonly #client: EventBridgeClient;
  readonly #busName: string;
  readonly #retry: RetryPolicy;

  constructor(client: EventBridgeClient, options: EventBridgePublisherOptions) {
    this.#client = client;
    this.#busName = options.busName;
    this.#retry = retryPolicy(options);
  }

  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    const entries = events.map(
      (event): PutEventsRequestEntry => ({
        EventBusName: this.#busName,
        Source: event.source,
        DetailType: event.detailType,
        Detail: event.detail,
        ...(event.time === undefined ? {} : { Time: event.time }),
      }),
    );
    const batches = batchesOf(entries, {
      maxCount: MAX_BATCH_ENTRIES,
      maxBytes: MAX_BATCH_BYTES,
      sizeOf: entrySize,
      label: (entry) => `event ${entry.DetailType}`,
    });
    for (const batch of batches) {
      await sendResendingFailures(batch, (pending) => this.#put(pending), this.#retry, {
        action: `EventBridge PutEvents to bus ${this.#busName}`,
        label: (entry) => entry.DetailType ?? '(no detail-type)',
      });
    }
  }

  /**
   * The response's Entries match the request's entries one to one, in order; failed ones carry an ErrorCode
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html#eb-failure-handling).
   */
  async #put(entries: readonly PutEventsRequestEntry[]): Promise<EntryFailure<PutEventsRequestEntry>[]> {
    let output: PutEventsCommandOutput;
    try {
      output = await this.#client.send(new PutEventsCommand({ Entries: [...entries] }));
    } catch (error) {
      throw classifyAwsError(error, `EventBridge PutEvents to bus ${this.#busName}`);
    }
    const results = output.Entries ?? [];
    if (results.length !== entries.length) {
      if ((output.FailedEntryCount ?? 0) === 0 && results.length === 0) return [];
      // Without the one-to-one answer we cannot tell which entries failed; the caller's retry re-publishes
      // them all, which consumers tolerate because every consumer is idempotent.
      throw new TransientError(
        `EventBridge PutEvents to bus ${this.#busName}: ${results.length} result entries for ${entries.length} events`,
      );
    }
    const failures: EntryFailure<PutEventsRequestEntry>[] = [];
    results.forEach((result, index) => {
      const entry = entries[index];
      if (result.ErrorCode !== undefined && entry !== undefined) {
        failures.push({
          entry,
          code: result.ErrorCode,
          retryable: !NON_RETRYABLE_CODES.has(result.ErrorCode),
        });
      }
    });
    return failures;
  }
}
