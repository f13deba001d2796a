import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';

/**
 * Secrets Manager's GetSecretValue on its wire protocol (JSON 1.1, `X-Amz-Target: secretsmanager.GetSecretValue`)
 * on 127.0.0.1, over a map of values: no emulator of Secrets Manager runs in-process here (the cloud twin answers it
 * only behind its IAM front), and the adapter needs no more than this one operation and its not-found error
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 */
export interface SecretsManagerStub {
  client: SecretsManagerClient;
  /** What `put-secret-value` would store; undefined deletes the secret. */
  values: Map<string, string>;
  stop(): Promise<void>;
}

const RequestSchema = z.object({ SecretId: z.string().min(1) });

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function answer(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

export async function startSecretsManagerStub(): Promise<SecretsManagerStub> {
  const values = new Map<string, string>();
  const server = createServer(async (request, response) => {
    const target = request.headers['x-amz-target'];
    const parsed = RequestSchema.safeParse(JSON.parse((await bodyOf(request)) || '{}'));
    if (target !== 'secretsmanager.GetSecretValue' || !parsed.success) {
      answer(response, 400, {
        __type: 'InvalidRequestException',
        message: `not emulated: ${String(target)}`,
      });
      return;
    }
    const value = values.get(parsed.data.SecretId);
    if (value === undefined) {
      answer(response, 400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
      return;
    }
    answer(response, 200, {
      ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${parsed.data.SecretId}-AbCdEf`,
      Name: parsed.data.SecretId,
      SecretString: value,
      VersionId: 'v1',
      VersionStages: ['AWSCURRENT'],
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const client = new SecretsManagerClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'contract', secretAccessKey: 'contract' },
    maxAttempts: 1,
  });
  return {
    client,
    values,
    stop: async () => {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
