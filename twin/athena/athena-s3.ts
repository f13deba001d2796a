import {
  GetBucketLocationCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { SessionCredentials } from '../front/access-keys.js';
import { TWIN_REGION } from '../twin-account.js';

/** `s3://bucket/key` split; the key may be empty or end with a slash. */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  return match?.[1] === undefined ? undefined : { bucket: match[1], key: match[2] ?? '' };
}

/** S3 refused a request Athena made with the caller's credentials. */
export class S3AccessDenied extends Error {
  override readonly name = 'S3AccessDenied';

  constructor(
    readonly url: string,
    readonly s3Message: string,
  ) {
    super(`${url}: ${s3Message}`);
  }
}

export interface ListedObject {
  key: string;
  size: number;
}

/**
 * The S3 requests Athena makes for a query, with the caller's credentials: a forward access session, so every
 * request goes through the twin's front like the function's own and is authorized against the caller's role, the
 * bucket's policy and its key's policy, with `aws:CalledVia` = athena.amazonaws.com
 * (https://docs.aws.amazon.com/athena/latest/ug/security-iam-athena.html).
 */
export class AthenaS3 {
  readonly #client: S3Client;

  constructor(endpoint: string, credentials: SessionCredentials) {
    this.#client = new S3Client({
      region: TWIN_REGION,
      endpoint,
      forcePathStyle: true,
      credentials,
      maxAttempts: 1,
    });
  }

  async #send<T>(url: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403)
        throw new S3AccessDenied(url, error.message);
      throw error;
    }
  }

  async bucketLocation(bucket: string): Promise<void> {
    await this.#send(`s3://${bucket}`, () =>
      this.#client.send(new GetBucketLocationCommand({ Bucket: bucket })),
    );
  }

  /** Every object below the prefix. */
  async list(bucket: string, prefix: string): Promise<ListedObject[]> {
    const found: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.#send(`s3://${bucket}/${prefix}`, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      for (const object of page.Contents ?? [])
        if (object.Key !== undefined) found.push({ key: object.Key, size: object.Size ?? 0 });
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found;
  }

  async get(bucket: string, key: string): Promise<Uint8Array> {
    const answer = await this.#send(`s3://${bucket}/${key}`, () =>
      this.#client.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    return answer.Body === undefined ? new Uint8Array() : answer.Body.transformToByteArray();
  }

  /** A write, SSE-KMS with the given key when there is one (the workgroup's result encryption). */
  async put(bucket: string, key: string, body: Uint8Array | string, kmsKey?: string): Promise<void> {
    await this.#send(`s3://${bucket}/${key}`, () =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          // A string body would be sent as a stream of unknown length.
          Body: typeof body === 'string' ? Buffer.from(body) : body,
          ...(kmsKey === undefined ? {} : { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKey }),
        }),
      ),
    );
  }

  close(): void {
    this.#client.destroy();
  }
}
