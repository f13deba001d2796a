import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { jest } from '@jest/globals';
import { SqsTaskQueue } from '../../services/adapters/aws/sqs/task-queue.js';
import { SqliteQueue } from '../../services/adapters/local/sqlite/sqlite-queue.js';
import { SqliteTaskQueue } from '../../services/adapters/local/sqlite/sqlite-task-queue.js';
import { openStateDatabase } from '../../services/adapters/local/sqlite/state-database.js';
import { RecordingQueue } from '../helpers/fakes.js';
import { type Fauxqs, startFauxqs } from './emulators/fauxqs.js';
import { taskQueueContract } from './task-queue.contract.js';

// A case takes milliseconds; the margin is for a machine busy with other tests (jest's default is 5 s).
jest.setTimeout(20_000);

const parsed = (bodies: readonly string[]): unknown[] => bodies.map((body) => JSON.parse(body));

taskQueueContract({
  name: 'RecordingQueue (the fake of the unit tests)',
  fresh: async () => {
    const queue = new RecordingQueue();
    return { queue, drain: async () => parsed(queue.sent.splice(0).map((task) => JSON.stringify(task))) };
  },
});

taskQueueContract({
  name: 'SqliteTaskQueue over an in-memory state store',
  fresh: async () => {
    const store = new SqliteQueue(openStateDatabase(':memory:'), {
      name: 'tasks',
      visibilityTimeoutMs: 1_000,
      maxReceiveCount: 3,
    });
    return {
      queue: new SqliteTaskQueue(store),
      drain: async () => {
        const { received } = store.receive(Number.MAX_SAFE_INTEGER);
        store.settle(
          received.map((m) => m.receiptHandle),
          [],
        );
        return parsed(received.map((m) => m.body));
      },
    };
  },
});

let fauxqs: Fauxqs;
let queues = 0;
taskQueueContract({
  name: 'SqsTaskQueue over fauxqs',
  start: async () => {
    fauxqs = await startFauxqs();
  },
  stop: () => fauxqs.stop(),
  fresh: async () => {
    queues += 1;
    const { QueueUrl: queueUrl = '' } = await fauxqs.sqs.send(
      new CreateQueueCommand({ QueueName: `tasks-${queues}` }),
    );
    return {
      queue: new SqsTaskQueue(fauxqs.sqs, { queueUrl }),
      drain: async () => {
        const bodies: string[] = [];
        for (;;) {
          const { Messages: messages = [] } = await fauxqs.sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
          );
          if (messages.length === 0) return parsed(bodies);
          bodies.push(...messages.map((m) => m.Body ?? ''));
          await fauxqs.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle ?? '' })),
            }),
          );
        }
      },
    };
  },
});
