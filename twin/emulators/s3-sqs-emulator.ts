import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import type { UpstreamQueue } from '../front/aws-front.js';
import type { StackModel, TwinQueue } from '../template/stack-model.js';
import { TWIN_REGION } from '../twin-account.js';

export interface S3SqsEmulator {
  url: URL;
  /** Each template queue's URL and ARN in the emulator, by the template's queue URL. */
  queues: ReadonlyMap<string, UpstreamQueue>;
  stop(): Promise<void>;
}

/** The emulator trusts any signature; provisioning is CloudFormation's job, not a function's, so it goes direct. */
const PROVISIONER = { accessKeyId: 'cloudformation', secretAccessKey: 'cloudformation' };

/**
 * fauxqs (S3 and SQS on the real wire protocols) on 127.0.0.1, with the template's buckets and queues created
 * as CloudFormation would: dead-letter queues first, then the queues whose redrive policy names them. Only the
 * front talks to it: functions never see its address.
 */
export async function startS3SqsEmulator(model: StackModel): Promise<S3SqsEmulator> {
  const app = buildApp({ logger: false, defaultRegion: TWIN_REGION });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const url = new URL(`http://127.0.0.1:${port}`);
  const config = { endpoint: url.origin, region: TWIN_REGION, credentials: PROVISIONER };
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const sqs = new SQSClient(config);
  try {
    for (const bucket of model.buckets.values())
      await s3.send(new CreateBucketCommand({ Bucket: bucket.name }));
    const queues = new Map<string, UpstreamQueue>();
    const byArn = new Map<string, UpstreamQueue>();
    for (const queue of deadLettersFirst([...model.queues.values()])) {
      const deadLetters =
        queue.redrive === undefined ? undefined : byArn.get(queue.redrive.deadLetterTargetArn);
      const created = await sqs.send(
        new CreateQueueCommand({
          QueueName: queue.name,
          Attributes: {
            VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
            MessageRetentionPeriod: String(queue.messageRetentionSeconds),
            ...(queue.redrive === undefined || deadLetters === undefined
              ? {}
              : {
                  RedrivePolicy: JSON.stringify({
                    deadLetterTargetArn: deadLetters.arn,
                    maxReceiveCount: queue.redrive.maxReceiveCount,
                  }),
                }),
          },
        }),
      );
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      const upstream = { url: created.QueueUrl ?? '', arn: attributes.Attributes?.QueueArn ?? '' };
      queues.set(queue.url, upstream);
      byArn.set(queue.arn, upstream);
    }
    return { url, queues, stop: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  } finally {
    s3.destroy();
    sqs.destroy();
  }
}

function deadLettersFirst(queues: TwinQueue[]): TwinQueue[] {
  const targets = new Set(
    queues.flatMap((q) => (q.redrive === undefined ? [] : [q.redrive.deadLetterTargetArn])),
  );
  return [...queues.filter((q) => targets.has(q.arn)), ...queues.filter((q) => !targets.has(q.arn))];
}
