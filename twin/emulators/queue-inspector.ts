import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { UpstreamQueue } from '../front/aws-front.js';
import { TWIN_REGION } from '../twin-account.js';

/** How many messages a queue holds, by state (SQS's ApproximateNumberOfMessages*, exact here). */
export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

const MessageSchema = z.object({ messageId: z.string(), body: z.string() });
/** fauxqs's non-destructive inspection (`GET /_fauxqs/queues/<name>`): every message, whatever its state. */
const InspectionSchema = z.object({
  messages: z.object({
    ready: z.array(MessageSchema),
    delayed: z.array(MessageSchema),
    inflight: z.array(z.object({ receiptHandle: z.string(), message: MessageSchema })),
  }),
});
type Inspection = z.infer<typeof InspectionSchema>;

/** SQS's own limit on one ChangeMessageVisibilityBatch. */
const BATCH = 10;

/**
 * What SQS itself knows of the template's queues, read beside the front (no caller, no authorization): their depth
 * and bodies for a test's checks, and the passing of a visibility timeout. The emulator keeps real time, and the
 * tasks queue's timeout is 12 minutes; a test moves that time on instead of waiting it out.
 */
export class QueueInspector {
  readonly #emulator: URL;
  readonly #queues: ReadonlyMap<string, UpstreamQueue>;

  /** `queues`: the template queues' emulator URLs and ARNs, by template queue ARN. */
  constructor(emulator: URL, queues: ReadonlyMap<string, UpstreamQueue>) {
    this.#emulator = emulator;
    this.#queues = queues;
  }

  async depth(queueArn: string): Promise<QueueDepth> {
    const { messages } = await this.#inspect(queueArn);
    return {
      visible: messages.ready.length,
      inFlight: messages.inflight.length,
      delayed: messages.delayed.length,
    };
  }

  /** The bodies of every message of the queue, visible, in flight or delayed (nothing is received). */
  async bodies(queueArn: string): Promise<string[]> {
    const { messages } = await this.#inspect(queueArn);
    return [...messages.ready, ...messages.inflight.map((m) => m.message), ...messages.delayed].map(
      (m) => m.body,
    );
  }

  /**
   * The visibility timeout of every message now in flight on the queue runs out: each becomes visible again, to be
   * received once more (its receive count goes up then), exactly as when the timeout passes in SQS. A consumer
   * still working on one finds its receipt handle stale. Returns how many messages came back.
   */
  async passVisibilityTimeout(queueArn: string): Promise<number> {
    const upstream = this.#upstream(queueArn);
    const handles = (await this.#inspect(queueArn)).messages.inflight.map((m) => m.receiptHandle);
    const sqs = new SQSClient({
      region: TWIN_REGION,
      endpoint: this.#emulator.origin,
      // SQS's own clock, not a caller: straight to the emulator, which trusts any signature.
      credentials: { accessKeyId: 'sqs.amazonaws.com', secretAccessKey: 'service' },
    });
    try {
      for (let start = 0; start < handles.length; start += BATCH) {
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: upstream.url,
            Entries: handles.slice(start, start + BATCH).map((handle, index) => ({
              Id: String(index),
              ReceiptHandle: handle,
              VisibilityTimeout: 0,
            })),
          }),
        );
      }
    } finally {
      sqs.destroy();
    }
    return handles.length;
  }

  #upstream(queueArn: string): UpstreamQueue {
    const upstream = this.#queues.get(queueArn);
    if (upstream === undefined) throw new Error(`${queueArn} is no queue of the template`);
    return upstream;
  }

  async #inspect(queueArn: string): Promise<Inspection> {
    const name = this.#upstream(queueArn).arn.split(':').at(-1) ?? '';
    const response = await fetch(new URL(`/_fauxqs/queues/${encodeURIComponent(name)}`, this.#emulator));
    if (!response.ok) throw new Error(`the emulator cannot inspect ${queueArn}: HTTP ${response.status}`);
    return InspectionSchema.parse(await response.json());
  }
}
