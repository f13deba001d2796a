import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectBody, ObjectStore } from '../../../ports/object-store.js';
import { TerminalError, TransientError } from '../../../shared/errors.js';
import { awsErrorFacts, classifyAwsError } from '../aws-error.js';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Folder of the bucket that holds this store's keys, e.g. `raw`; slashes around it are optional. */
  prefix?: string;
  /**
   * Part size of streamed bodies. lib-storage holds about `partSizeBytes × queueSize` in memory; its defaults
   * (5 MiB, S3's minimum part size, and 4 parts in flight) keep a 50,000-row page well under the Lambda's memory.
   */
  partSizeBytes?: number;
  queueSize?: number;
}

/** DeleteObjects takes at most 1,000 keys (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html). */
const DELETE_BATCH = 1000;
/** Per-key DeleteObjects errors that S3 documents as worth retrying. */
const TRANSIENT_DELETE_CODES = new Set(['InternalError', 'ServiceUnavailable', 'SlowDown']);
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

async function* countingBytes(body: AsyncIterable<Uint8Array>, counter: { bytes: number }) {
  for await (const chunk of body) {
    counter.bytes += chunk.byteLength;
    yield chunk;
  }
}

/** An ObjectStore over one bucket (and optionally one folder of it). */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  /** The prefix with one trailing slash, or '' for the bucket's root. */
  readonly #root: string;
  readonly #partSize: number | undefined;
  readonly #queueSize: number | undefined;

  constructor(client: S3Client, options: S3ObjectStoreOptions) {
    if (!BUCKET_NAME.test(options.bucket)) {
      throw new TerminalError(`not an S3 bucket name: "${options.bucket}"`);
    }
    const folder = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.#client = client;
    this.#bucket = options.bucket;
    this.#root = folder === '' ? '' : `${folder}/`;
    this.#partSize = options.partSizeBytes;
    this.#queueSize = options.queueSize;
    this.location = folder === '' ? `s3://${options.bucket}` : `s3://${options.bucket}/${folder}`;
  }

  /**
   * In-memory bodies go in one PutObject. Streamed bodies go through lib-storage's Upload, which reads one part
   * at a time and sends a single PutObject when the stream fits in one part. Both are atomic: a multipart
   * object becomes visible only at CompleteMultipartUpload, and Upload aborts the upload when a part fails
   * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html).
   */
  async put(
    key: string,
    body: ObjectBody,
    options: { contentType?: string } = {},
  ): Promise<{ bytes: number }> {
    const params = {
      Bucket: this.#bucket,
      Key: this.#key(key),
      ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
    };
    try {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
        // Said outright: the SDK cannot size an empty string, and warns of "a Stream of unknown length" then.
        await this.#client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: bytes }));
        return { bytes };
      }
      const counter = { bytes: 0 };
      const upload = new Upload({
        client: this.#client,
        params: { ...params, Body: Readable.from(countingBytes(body, counter)) },
        ...(this.#partSize === undefined ? {} : { partSize: this.#partSize }),
        ...(this.#queueSize === undefined ? {} : { queueSize: this.#queueSize }),
      });
      await upload.done();
      return { bytes: counter.bytes };
    } catch (error) {
      throw classifyAwsError(error, `S3 put ${this.#url(key)}`);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const output = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
      if (output.Body === undefined) {
        throw new TransientError(`S3 get ${this.#url(key)}: the response has no body`);
      }
      return await output.Body.transformToByteArray();
    } catch (error) {
      if (awsErrorFacts(error).name === 'NoSuchKey') return undefined;
      throw classifyAwsError(error, `S3 get ${this.#url(key)}`);
    }
  }

  /**
   * HeadObject answers 404 without a body, so the SDK names the error `NotFound`. Without s3:ListBucket it
   * would answer 403 for a missing key instead
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), which stays a TerminalError.
   */
  async exists(key: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      return true;
    } catch (error) {
      const facts = awsErrorFacts(error);
      if (facts.name === 'NotFound' || facts.httpStatus === 404) return false;
      throw classifyAwsError(error, `S3 exists ${this.#url(key)}`);
    }
  }

  /** Keys under `prefix`, relative to the store's root, in S3's (UTF-8 binary) order. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const request = {
        Bucket: this.#bucket,
        Prefix: this.#key(prefix),
        ...(token === undefined ? {} : { ContinuationToken: token }),
      };
      let output: ListObjectsV2CommandOutput;
      try {
        output = await this.#client.send(new ListObjectsV2Command(request));
      } catch (error) {
        throw classifyAwsError(error, `S3 list ${this.#url(prefix)}`);
      }
      for (const object of output.Contents ?? []) {
        if (object.Key?.startsWith(this.#root)) keys.push(object.Key.slice(this.#root.length));
      }
      token = output.IsTruncated === true ? output.NextContinuationToken : undefined;
      if (output.IsTruncated === true && token === undefined) {
        throw new TransientError(
          `S3 list ${this.#url(prefix)}: a truncated page without a continuation token`,
        );
      }
    } while (token !== undefined);
    return keys;
  }

  /** Deletes in batches of 1,000 and throws, naming the keys, if S3 refused any of them. */
  async delete(keys: readonly string[]): Promise<void> {
    const refused: { key: string; code: string }[] = [];
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      try {
        // Quiet mode: the response lists only the keys that failed.
        const output = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#key(key) })), Quiet: true },
          }),
        );
        for (const error of output.Errors ?? []) {
          refused.push({ key: error.Key ?? '(unnamed key)', code: error.Code ?? 'UnknownError' });
        }
      } catch (error) {
        throw classifyAwsError(error, `S3 delete of ${batch.length} keys under ${this.location}`);
      }
    }
    if (refused.length === 0) return;
    const listed = refused
      .slice(0, 5)
      .map((r) => `${r.key} (${r.code})`)
      .join(', ');
    const message = `S3 delete under ${this.location}: ${refused.length} of ${keys.length} keys were not deleted: ${listed}`;
    throw refused.every((r) => TRANSIENT_DELETE_CODES.has(r.code))
      ? new TransientError(message)
      : new TerminalError(message);
  }

  #key(key: string): string {
    return `${this.#root}${key}`;
  }

  #url(key: string): string {
    return `s3://${this.#bucket}/${this.#key(key)}`;
  }
}
