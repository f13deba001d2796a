import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { jest } from '@jest/globals';
import dynalite from 'dynalite';
import { interceptLocalhostDns } from 'fauxqs';
import { dlqCommand } from '../../../cli/dlq-command.js';
import { DynamoDbRunLedger } from '../../../services/adapters/aws/dynamodb/run-ledger.js';
import { SqsDeadLetters } from '../../../services/adapters/aws/sqs/dead-letters.js';
import { SqsTaskQueue } from '../../../services/adapters/aws/sqs/task-queue.js';
import type { DownloadTask } from '../../../services/ports/task-queue.js';
import { createLedgerTable } from '../../contracts/emulators/dynalite.js';
import { type Fauxqs, startFauxqs } from '../../contracts/emulators/fauxqs.js';
import { playTransactionsOneByOne } from '../../helpers/dynalite-transactions.js';
import { runId, window } from '../../helpers/samples.js';
import { stdoutOf } from '../../helpers/stdout.js';

/**
 * The SQS adapters against fauxqs, an SQS emulator speaking the real protocol on loopback: send, receive,
 * visibility, the redrive policy moving a message that keeps failing to the dead-letter queue, and `etl dlq`'s
 * list and redrive.
 */
describe('SQS adapters on fauxqs', () => {
  let server: Fauxqs;
  let client: SQSClient;
  let queues = 0;

  // On 127.0.0.1 only (the contracts' starter): fauxqs's own startFauxqs listens on every interface.
  beforeAll(async () => {
    server = await startFauxqs();
    client = server.sqs;
  });

  afterAll(async () => {
    await server.stop();
  });

  /** A tasks queue whose messages go to its dead-letter queue after `maxReceiveCount` receives. */
  async function freshQueues(maxReceiveCount = 2) {
    queues += 1;
    const dlq = await client.send(new CreateQueueCommand({ QueueName: `tasks-dlq-${queues}` }));
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const tasks = await client.send(
      new CreateQueueCommand({
        QueueName: `tasks-${queues}`,
        Attributes: {
          VisibilityTimeout: '30',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: Attributes?.QueueArn,
            maxReceiveCount: String(maxReceiveCount),
          }),
        },
      }),
    );
    if (tasks.QueueUrl === undefined || dlq.QueueUrl === undefined)
      throw new Error('fauxqs created no queue URL');
    return { tasksUrl: tasks.QueueUrl, dlqUrl: dlq.QueueUrl };
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
    const { tasksUrl } = await freshQueues();
    await new SqsTaskQueue(client, { queueUrl: tasksUrl }).send(
      Array.from({ length: 23 }, (_, i) => task(i + 1)),
    );
    const bodies = (await receiveAll(tasksUrl))
      .map((m) => JSON.parse(m.Body ?? '{}').page)
      .sort((a, b) => a - b);
    expect(bodies).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
  }, 30_000);

  it('hides a received message for its visibility timeout and hands it out again after a failure', async () => {
    const { tasksUrl } = await freshQueues(5);
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
    const { tasksUrl, dlqUrl } = await freshQueues(2);
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
    const { tasksUrl, dlqUrl } = await freshQueues(1);
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

  it('discards the dead letters the filter chooses, sending nothing back, and leaves the others', async () => {
    const { tasksUrl, dlqUrl } = await freshQueues(1);
    await new SqsTaskQueue(client, { queueUrl: tasksUrl }).send([task(1), task(2)]);
    await receive(tasksUrl, 0);
    expect(await receive(tasksUrl, 0)).toEqual([]);
    const deadLetters = new SqsDeadLetters(client, {
      deadLetterQueueUrl: dlqUrl,
      sourceQueueUrl: tasksUrl,
      peekVisibilitySeconds: 1,
    });

    expect(await deadLetters.discard((m) => JSON.parse(m.body).page === 2)).toBe(1);

    expect((await deadLetters.list(10)).map((m) => JSON.parse(m.body).page)).toEqual([1]);
    expect(await receive(tasksUrl)).toEqual([]);
  }, 30_000);

  it('etl dlq --ledger-table: a letter whose page the stage’s ledger holds is listed as stored, and removed, not redriven', async () => {
    // Prepare: pages 1 and 2 dead-lettered; page 2 stored since (a later planning of the night fetched it).
    const { tasksUrl, dlqUrl } = await freshQueues(1);
    await new SqsTaskQueue(client, { queueUrl: tasksUrl }).send([task(1), task(2)]);
    await receive(tasksUrl, 0);
    expect(await receive(tasksUrl, 0)).toEqual([]);
    const ledgerServer = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => ledgerServer.listen(0, '127.0.0.1', () => resolve()));
    const dynamoEndpoint = `http://127.0.0.1:${(ledgerServer.address() as AddressInfo).port}`;
    const environment = {
      AWS_ENDPOINT_URL_SQS: server.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const saved = Object.keys(environment).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, environment);
    // The command's SQS client sends to each queue URL's host, as in AWS; fauxqs names hosts under localhost. The
    // SDK warns (on the console) that this host is not its endpoint's: in AWS they are the same.
    const restoreDns = interceptLocalhostDns();
    const quiet = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const dynamo = new DynamoDBClient({});
    try {
      playTransactionsOneByOne(dynamo);
      await createLedgerTable(dynamo, 'ledger');
      await new DynamoDbRunLedger(dynamo, { tableName: 'ledger' }).recordPage(runId, 'sensors', 2, 50_000);
      const queues = [
        ...['--queue-url', dlqUrl, '--source-queue-url', tasksUrl],
        ...['--ledger-table', 'ledger', '--json'],
      ];

      // Act
      const listed = await stdoutOf(() => dlqCommand(['list', ...queues]));
      const redriven = await stdoutOf(() => dlqCommand(['redrive', ...queues]));

      // Assess
      expect(JSON.parse(listed.out).messages).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ page: 1, stored_since: false }),
          expect.objectContaining({ page: 2, stored_since: true }),
        ]),
      );
      expect(JSON.parse(redriven.out)).toMatchObject({ redriven: 1, removed: 1 });
      expect((await receiveAll(tasksUrl)).map((m) => JSON.parse(m.Body ?? '{}').page)).toEqual([1]);
      expect(await receive(dlqUrl)).toEqual([]);
    } finally {
      quiet.mockRestore();
      restoreDns();
      dynamo.destroy();
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await new Promise<void>((resolve) => ledgerServer.close(() => resolve()));
    }
  }, 30_000);
});
