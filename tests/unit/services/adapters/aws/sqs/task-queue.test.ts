import { QueueDoesNotExist, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsTaskQueue } from '../../../../../../services/adapters/aws/sqs/task-queue.js';
import { TerminalError, TransientError } from '../../../../../../services/shared/errors.js';
import { clientConfig, downloadTask, recordingSleep, serviceError } from '../factories.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleet-etl-tasks';
const client = new SQSClient(clientConfig);
const sqs = mockClient(client);

function queue(sleep = recordingSleep().sleep) {
  return new SqsTaskQueue(client, {
    queueUrl: QUEUE_URL,
    maxAttempts: 3,
    baseDelayMs: 100,
    sleep,
    random: () => 0.5,
  });
}

const tasks = (count: number) => Array.from({ length: count }, (_, i) => downloadTask({ page: i + 1 }));
const sentIds = () =>
  sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries?.map((e) => e.Id));

beforeEach(() => {
  sqs.reset();
});

describe('SqsTaskQueue', () => {
  it('sends validated tasks as JSON in batches of 10 with ids derived from the task', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
      Failed: [],
    }));

    await queue().send(tasks(23));

    const calls = sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.QueueUrl).toBe(QUEUE_URL);
    expect(calls[0]?.Entries?.[0]).toEqual({
      Id: '2026-11-24_sensors_1',
      MessageBody: JSON.stringify(downloadTask({ page: 1 })),
    });
    expect(calls[2]?.Entries?.[2]?.Id).toBe('2026-11-24_sensors_23');
    // A standard queue: no FIFO fields.
    expect(calls[0]?.Entries?.[0]).not.toHaveProperty('MessageDeduplicationId');
    expect(calls[0]?.Entries?.[0]).not.toHaveProperty('MessageGroupId');
  });

  it('re-sends only the entries SQS reported as failed, after a backoff', async () => {
    const { waits, sleep } = recordingSleep();
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [1, 2, 4].map((page) => ({
          Id: `2026-11-24_sensors_${page}`,
          MessageId: 'm',
          MD5OfMessageBody: 'x',
        })),
        Failed: [{ Id: '2026-11-24_sensors_3', SenderFault: false, Code: 'InternalError' }],
      })
      .resolvesOnce({
        Successful: [{ Id: '2026-11-24_sensors_3', MessageId: 'm', MD5OfMessageBody: 'x' }],
        Failed: [],
      });

    await queue(sleep).send(tasks(4));

    expect(sentIds()).toEqual([
      ['2026-11-24_sensors_1', '2026-11-24_sensors_2', '2026-11-24_sensors_3', '2026-11-24_sensors_4'],
      ['2026-11-24_sensors_3'],
    ]);
    expect(sqs.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries?.[0]?.MessageBody).toBe(
      JSON.stringify(downloadTask({ page: 3 })),
    );
    expect(waits).toEqual([50]);
  });

  it('re-sends entries SQS acknowledged neither way', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: '2026-11-24_sensors_1', MessageId: 'm', MD5OfMessageBody: 'x' }] })
      .resolvesOnce({ Successful: [{ Id: '2026-11-24_sensors_2', MessageId: 'm', MD5OfMessageBody: 'x' }] });

    await queue().send(tasks(2));

    expect(sentIds()).toEqual([['2026-11-24_sensors_1', '2026-11-24_sensors_2'], ['2026-11-24_sensors_2']]);
  });

  it('gives up with a TransientError naming the failed count after the attempts', async () => {
    const { waits, sleep } = recordingSleep();
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [
        { Id: '2026-11-24_sensors_1', SenderFault: false, Code: 'InternalError' },
        { Id: '2026-11-24_sensors_2', SenderFault: false, Code: 'InternalError' },
      ],
    });

    const sending = queue(sleep).send(tasks(2));

    await expect(sending).rejects.toThrow(TransientError);
    await expect(sending).rejects.toThrow(/2 of 2 entries still failed after 3 attempts/);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
    expect(waits).toEqual([50, 100]);
  });

  it('does not re-send an entry that failed through the sender’s fault', async () => {
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '2026-11-24_sensors_1', SenderFault: true, Code: 'InvalidParameterValue' }],
    });

    await expect(queue().send(tasks(1))).rejects.toThrow(TerminalError);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('refuses an invalid task before sending anything', async () => {
    const invalid = downloadTask({ page: 0 });

    await expect(queue().send([downloadTask(), invalid])).rejects.toThrow(/invalid download task #1/);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('sends identical tasks once and refuses two different tasks for the same page', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
    }));

    await queue().send([downloadTask(), downloadTask()]);
    expect(sentIds()).toEqual([['2026-11-24_sensors_1']]);

    await expect(queue().send([downloadTask(), downloadTask({ pageSize: 10 })])).rejects.toThrow(
      TerminalError,
    );
  });

  it('classifies throttling of the whole call as transient', async () => {
    sqs.on(SendMessageBatchCommand).rejects(serviceError('RequestThrottled', 400));

    const sending = queue().send(tasks(1));

    await expect(sending).rejects.toThrow(TransientError);
    await expect(sending).rejects.toThrow(
      /SQS SendMessageBatch to .*fleet-etl-tasks failed: RequestThrottled/,
    );
  });

  it('classifies a missing queue as terminal', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .rejects(new QueueDoesNotExist({ message: 'no such queue', $metadata: {} }));

    await expect(queue().send(tasks(1))).rejects.toThrow(TerminalError);
  });
});
