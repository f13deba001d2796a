import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { jest } from '@jest/globals';
import { SqsDeadLetters } from '../../services/adapters/aws/sqs/dead-letters.js';
import { SqliteDeadLetters } from '../../services/adapters/local/sqlite/sqlite-dead-letters.js';
import { SqliteQueue } from '../../services/adapters/local/sqlite/sqlite-queue.js';
import { openStateDatabase } from '../../services/adapters/local/sqlite/state-database.js';
import { deadLettersContract } from './dead-letters.contract.js';
import { type Fauxqs, startFauxqs } from './emulators/fauxqs.js';

// A case takes milliseconds; the margin is for a machine busy with other tests (jest's default is 5 s).
jest.setTimeout(20_000);

deadLettersContract({
  name: 'SqliteDeadLetters over an in-memory state store',
  fresh: async () => {
    // Received once without success, a message is dead-lettered at its next receive.
    const queue = new SqliteQueue(openStateDatabase(':memory:'), {
      name: 'tasks',
      visibilityTimeoutMs: 0,
      maxReceiveCount: 1,
    });
    const receiveAll = () => queue.receive(Number.MAX_SAFE_INTEGER);
    return {
      deadLetters: new SqliteDeadLetters(queue, 'state.sqlite'),
      deadLetter: async (bodies) => {
        queue.send(bodies);
        const { received } = receiveAll();
        queue.settle(
          [],
          received.map((m) => m.receiptHandle),
        );
        receiveAll();
      },
      drainSource: async () => {
        const { received } = receiveAll();
        queue.settle(
          received.map((m) => m.receiptHandle),
          [],
        );
        return received.map((m) => m.body);
      },
    };
  },
});

async function receive(sqs: SQSClient, queueUrl: string, visibility: number) {
  const { Messages: messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibility,
      WaitTimeSeconds: 0,
    }),
  );
  return messages;
}

let fauxqs: Fauxqs;
let queues = 0;
deadLettersContract({
  name: 'SqsDeadLetters over fauxqs',
  start: async () => {
    fauxqs = await startFauxqs();
  },
  stop: () => fauxqs.stop(),
  fresh: async () => {
    queues += 1;
    const { sqs } = fauxqs;
    const { QueueUrl: deadLetterQueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: `tasks-dlq-${queues}` }),
    );
    const { Attributes: { QueueArn: deadLetterTargetArn = '' } = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const { QueueUrl: sourceQueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `tasks-${queues}`,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: 1 }) },
      }),
    );
    return {
      deadLetters: new SqsDeadLetters(sqs, { deadLetterQueueUrl, sourceQueueUrl, peekVisibilitySeconds: 5 }),
      deadLetter: async (bodies) => {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: sourceQueueUrl,
            Entries: bodies.map((body, i) => ({ Id: `m${i}`, MessageBody: body })),
          }),
        );
        // Received once and left to time out at once: the next receive moves each to the dead-letter queue.
        let received = 0;
        while (received < bodies.length) received += (await receive(sqs, sourceQueueUrl, 0)).length;
        expect(await receive(sqs, sourceQueueUrl, 0)).toEqual([]);
      },
      drainSource: async () => {
        const drained: string[] = [];
        for (let batch = await receive(sqs, sourceQueueUrl, 30); batch.length > 0; ) {
          drained.push(...batch.map((m) => m.Body ?? ''));
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: sourceQueueUrl,
              Entries: batch.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle ?? '' })),
            }),
          );
          batch = await receive(sqs, sourceQueueUrl, 30);
        }
        return drained;
      },
    };
  },
});
