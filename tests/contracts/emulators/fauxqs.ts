import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';

/** fauxqs (S3 and SQS on their real wire protocols) on 127.0.0.1, with one client of each. */
export interface Fauxqs {
  /** `http://127.0.0.1:<port>`, for a client the code under test builds itself (AWS_ENDPOINT_URL_SQS). */
  endpoint: string;
  sqs: SQSClient;
  s3: S3Client;
  stop(): Promise<void>;
}

/** Static keys: fauxqs accepts any signature, and nothing may reach for the environment's credentials. */
const config = (endpoint: string) => ({
  endpoint,
  region: 'eu-west-1',
  credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' },
  maxAttempts: 1,
});

/**
 * `buildApp` rather than `startFauxqs`: the latter listens on every interface, and test servers listen on
 * loopback only (twin/emulators/s3-sqs-emulator.ts starts it the same way).
 */
export async function startFauxqs(): Promise<Fauxqs> {
  const app = buildApp({ logger: false, defaultRegion: 'eu-west-1' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const sqs = new SQSClient(config(endpoint));
  const s3 = new S3Client({ ...config(endpoint), forcePathStyle: true });
  return {
    endpoint,
    sqs,
    s3,
    stop: async () => {
      sqs.destroy();
      s3.destroy();
      await app.close();
    },
  };
}
