import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { SqsDeadLetters } from '../../../services/adapters/aws/sqs/dead-letters.js';
import { SqsTaskQueue } from '../../../services/adapters/aws/sqs/task-queue.js';
import type { DownloadTask } from '../../../services/ports/task-queue.js';
import { runId, window } from '../../helpers/samples.js';

/**
 * The SQS adapters against fauxqs, an SQS emulator speaking the real protocol on loopback: send, receive,
 * visibility, the redrive policy moving a message that keeps failing to the dead-letter queue, and `etl dlq`'s
 * list and redrive.
 */
describe('SQS adapters on fauxqs', () => {
  let server: Awaited<ReturnType<typeof startFauxqs>>;
  let client: SQSClient;
  let queues = 0;

  beforeAll(async () => {
    server = await startFauxqs({ port: 0, logger: false });
    client = new SQSClient({
      endpoint: server.address,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    client.destroy();
    await server.stop();
  });

  /** A tasks queue whose messages go to its dead-letter queue after `maxReceiveCount` receives. */
  function freshQueues(maxReceiveCount = 2) {
    queues += 1;
    const dlq = server.createQueue(`tasks-dlq-${queues}`);
    const tasks = server.createQueue(`tasks-${queues}`, {
      attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlq.queueArn,
          maxReceiveCount: String(maxReceiveCount),
        }),
      },
    });
    return { tasksUrl: tasks.queueUrl, dlqUrl: dlq.queueUrl };
  }

  const task = (page: number): DownloadTask => ({
    runId,
    dataset: 'sensors',
    window,
    page,
    pageSize: 50_000,
    totalPages: 30,
  });

  async function receive(queueUrl: string, visibility = 30): Promise<Message[]> {
    const output = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: visibility,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    return output.Messages ?? [];
  }

  async function receiveAll(queueUrl: string): Promise<Message[]> {
    const all: Message[] = [];
    for (let batch = await receive(queueUrl); batch.length > 0; batch = await receive(queueUrl))
      all.push(...batch);
    return all;
  }

  it('sends every task once, in batches, as its JSON body', async () => {
    const { tasksUrl } = freshQueues();
    await new SqsTaskQueue(client, { queueUrl: tasksUrl }).send(
      Array.from({ length: 23 }, (_, i) => task(i + 1)),
    );
    const bodies = (await receiveAll(tasksUrl))
      .map((m) => JSON.parse(m.Body ?? '{}').page)
      .sort((a, b) => a - b);
    expect(bodies).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  }, 30_000);

  it('hides a received message for its visibility timeout and hands it out again after a failure', async () => {
    const { tasksUrl } = freshQueues(5);
    await new SqsTaskQueue(client, { queueUrl: tasksUrl }).send([task(1)]);
    const [first] = await receive(tasksUrl);
    expect(await receive(tasksUrl)).toEqual([]);
    // A batch item failure: Lambda leaves the message; here its visibility ends at once.
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: tasksUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const [second] = await receive(tasksUrl);
    expect(second?.MessageId).toBe(first?.MessageId);
    expect(second?.Attributes?.ApproximateReceiveCount).toBe('2');
  }, 30_000);

  it('dead-letters a message that keeps failing, lists it without consuming it, and redrives it', async () => {
    // Prepare: page 7 is received twice without success, page 8 succeeds.
    const { tasksUrl, dlqUrl } = freshQueues(2);
    await new SqsTaskQueue(client, { queueUrl: tasksUrl }).send([task(7), task(8)]);
    for (const message of await receive(tasksUrl, 0)) {
      if (JSON.parse(message.Body ?? '{}').page === 8) {
        await client.send(
          new DeleteMessageCommand({ QueueUrl: tasksUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    await receive(tasksUrl, 0);
    expect(await receive(tasksUrl, 0)).toEqual([]); // the third receive finds it moved
    const deadLetters = new SqsDeadLetters(client, { deadLetterQueueUrl: dlqUrl, sourceQueueUrl: tasksUrl });

    // Act and assess: list twice (nothing consumed), then redrive.
    const listed = await deadLetters.list(10);
    expect(listed.map((m) => JSON.parse(m.body).page)).toEqual([7]);
    expect(await deadLetters.list(10)).toHaveLength(1);
    expect(await deadLetters.redrive((m) => JSON.parse(m.body).page === 7)).toBe(1);
    expect(await deadLetters.list(10)).toEqual([]);
    const back = await receive(tasksUrl);
    expect(back.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([task(7)]);
  }, 30_000);

  it('leaves the dead letters the filter does not choose', async () => {
    const { tasksUrl, dlqUrl } = freshQueues(1);
    await new SqsTaskQueue(client, { queueUrl: tasksUrl }).send([task(1), task(2)]);
    await receive(tasksUrl, 0);
    expect(await receive(tasksUrl, 0)).toEqual([]);
    const deadLetters = new SqsDeadLetters(client, {
      deadLetterQueueUrl: dlqUrl,
      sourceQueueUrl: tasksUrl,
      peekVisibilitySeconds: 1,
    });
    expect(await deadLetters.redrive((m) => JSON.parse(m.body).page === 2)).toBe(1);
    expect((await deadLetters.list(10)).map((m) => JSON.parse(m.body).page)).toEqual([1]);
  }, 30_000);
});
