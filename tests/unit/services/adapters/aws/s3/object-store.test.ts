import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ObjectStore } from '../../../../../../services/adapters/aws/s3/object-store.js';
import { TerminalError, TransientError } from '../../../../../../services/shared/errors.js';
import { clientConfig, serviceError } from '../factories.js';

const client = new S3Client(clientConfig);
const s3 = mockClient(client);
const store = () => new S3ObjectStore(client, { bucket: 'fleet-raw', prefix: '/lake/' });

const MiB = 1024 * 1024;

/** What GetObject's Body offers; only transformToByteArray is used. */
function bodyOf(text: string) {
  const bytes = new TextEncoder().encode(text);
  return Object.assign(Readable.from([bytes]), {
    transformToByteArray: async () => bytes,
    transformToString: async () => text,
    transformToWebStream: (): never => {
      throw new Error('not used');
    },
  });
}

async function* chunks(count: number, size: number, yielded: { count: number } = { count: 0 }) {
  for (let i = 0; i < count; i += 1) {
    yielded.count += 1;
    yield new Uint8Array(size).fill(i);
  }
}

beforeEach(() => {
  s3.reset();
});

describe('S3ObjectStore', () => {
  it('names its location without a trailing slash', () => {
    expect(store().location).toBe('s3://fleet-raw/lake');
    expect(new S3ObjectStore(client, { bucket: 'fleet-raw' }).location).toBe('s3://fleet-raw');
  });

  it('refuses a bucket name S3 would refuse', () => {
    expect(() => new S3ObjectStore(client, { bucket: 'Fleet_Raw' })).toThrow(TerminalError);
  });

  describe('put', () => {
    it('sends an in-memory body in one PutObject under the prefix and counts UTF-8 bytes', async () => {
      s3.on(PutObjectCommand).resolves({});

      const result = await store().put('sensors/run=2026-11-24/page-00001.ndjson', '{"é":1}\n', {
        contentType: 'application/x-ndjson',
      });

      expect(result).toEqual({ bytes: 9 });
      expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input)).toEqual([
        {
          Bucket: 'fleet-raw',
          Key: 'lake/sensors/run=2026-11-24/page-00001.ndjson',
          Body: '{"é":1}\n',
          ContentLength: 9,
          ContentType: 'application/x-ndjson',
        },
      ]);
    });

    it('sends a streamed body that fits one part as a single PutObject', async () => {
      s3.on(PutObjectCommand).resolves({});

      const result = await store().put('vehicles/run=1/page-00001.ndjson', chunks(3, 1000));

      expect(result).toEqual({ bytes: 3000 });
      const [put] = s3.commandCalls(PutObjectCommand);
      expect(put?.args[0].input).toMatchObject({
        Bucket: 'fleet-raw',
        Key: 'lake/vehicles/run=1/page-00001.ndjson',
      });
      expect(put?.args[0].input.Body).toHaveLength(3000);
      expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
    });

    it('streams a large body as a multipart upload, one part at a time', async () => {
      const yielded = { count: 0 };
      const yieldedAtFirstPart: number[] = [];
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
      s3.on(UploadPartCommand).callsFake((input: { PartNumber?: number }) => {
        yieldedAtFirstPart.push(yielded.count);
        return { ETag: `"etag-${input.PartNumber}"` };
      });
      s3.on(CompleteMultipartUploadCommand).resolves({});
      const streaming = new S3ObjectStore(client, {
        bucket: 'fleet-raw',
        partSizeBytes: 5 * MiB,
        queueSize: 1,
      });

      const result = await streaming.put('sensors/run=1/page-00001.ndjson', chunks(11, MiB, yielded));

      expect(result).toEqual({ bytes: 11 * MiB });
      expect(s3.commandCalls(CreateMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
        Bucket: 'fleet-raw',
        Key: 'sensors/run=1/page-00001.ndjson',
      });
      expect(s3.commandCalls(UploadPartCommand).map((call) => call.args[0].input.PartNumber)).toEqual([
        1, 2, 3,
      ]);
      // The first part went out before the source was read to its end: the page was not buffered whole.
      expect(yieldedAtFirstPart[0]).toBeLessThan(11);
      expect(s3.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input).toMatchObject({
        UploadId: 'upload-1',
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: '"etag-1"' },
            { PartNumber: 2, ETag: '"etag-2"' },
            { PartNumber: 3, ETag: '"etag-3"' },
          ],
        },
      });
    });

    it('aborts the multipart upload when a part fails, so no partial object appears', async () => {
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-2' });
      s3.on(UploadPartCommand).rejects(serviceError('InternalError', 500));
      s3.on(AbortMultipartUploadCommand).resolves({});
      const streaming = new S3ObjectStore(client, {
        bucket: 'fleet-raw',
        partSizeBytes: 5 * MiB,
        queueSize: 1,
      });

      const put = streaming.put('sensors/run=1/page-00002.ndjson', chunks(11, MiB));

      await expect(put).rejects.toThrow(TransientError);
      await expect(put).rejects.toThrow(
        /S3 put s3:\/\/fleet-raw\/sensors\/run=1\/page-00002.ndjson failed: InternalError/,
      );
      expect(s3.commandCalls(AbortMultipartUploadCommand)[0]?.args[0].input).toEqual({
        Bucket: 'fleet-raw',
        Key: 'sensors/run=1/page-00002.ndjson',
        UploadId: 'upload-2',
      });
      expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    });

    it('writes nothing when the source fails midway, and keeps the source’s error', async () => {
      s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-3' });
      s3.on(UploadPartCommand).resolves({ ETag: '"etag"' });
      s3.on(AbortMultipartUploadCommand).resolves({});
      async function* failingSource() {
        yield* chunks(6, MiB);
        throw new TerminalError('row 50001 does not match the sensors schema');
      }
      const streaming = new S3ObjectStore(client, {
        bucket: 'fleet-raw',
        partSizeBytes: 5 * MiB,
        queueSize: 1,
      });

      const put = streaming.put('sensors/run=1/page-00003.ndjson', failingSource());

      await expect(put).rejects.toThrow('row 50001 does not match the sensors schema');
      expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(s3.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    });

    it('fails a refused write terminally', async () => {
      s3.on(PutObjectCommand).rejects(serviceError('AccessDenied', 403));

      await expect(store().put('k', 'x')).rejects.toThrow(TerminalError);
    });
  });

  describe('get and exists', () => {
    it('reads an object under the prefix', async () => {
      s3.on(GetObjectCommand, { Bucket: 'fleet-raw', Key: 'lake/results/a.json' }).resolves({
        Body: bodyOf('[1]'),
      });

      const bytes = await store().get('results/a.json');

      expect(new TextDecoder().decode(bytes)).toBe('[1]');
    });

    it('answers undefined for a missing key', async () => {
      s3.on(GetObjectCommand).rejects(
        new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
      );

      expect(await store().get('nope')).toBeUndefined();
    });

    it('classifies other read errors', async () => {
      s3.on(GetObjectCommand).rejects(serviceError('SlowDown', 503));

      await expect(store().get('k')).rejects.toThrow(TransientError);
    });

    it('checks existence with HeadObject', async () => {
      s3.on(HeadObjectCommand, { Key: 'lake/there' }).resolves({});
      s3.on(HeadObjectCommand, { Key: 'lake/missing' }).rejects(
        new NotFound({ message: 'NotFound', $metadata: { httpStatusCode: 404 } }),
      );

      expect(await store().exists('there')).toBe(true);
      expect(await store().exists('missing')).toBe(false);
    });
  });

  describe('list', () => {
    it('follows continuation tokens and returns keys relative to the prefix', async () => {
      s3.on(ListObjectsV2Command)
        .resolvesOnce({
          Contents: [
            { Key: 'lake/sensors/run=1/page-00001.ndjson' },
            { Key: 'lake/sensors/run=1/page-00002.ndjson' },
          ],
          IsTruncated: true,
          NextContinuationToken: 'token-2',
        })
        .resolvesOnce({ Contents: [{ Key: 'lake/sensors/run=1/page-00003.ndjson' }], IsTruncated: false });

      const keys = await store().list('sensors/run=1/');

      expect(keys).toEqual([
        'sensors/run=1/page-00001.ndjson',
        'sensors/run=1/page-00002.ndjson',
        'sensors/run=1/page-00003.ndjson',
      ]);
      expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([
        { Bucket: 'fleet-raw', Prefix: 'lake/sensors/run=1/' },
        { Bucket: 'fleet-raw', Prefix: 'lake/sensors/run=1/', ContinuationToken: 'token-2' },
      ]);
    });

    it('answers an empty list for an empty prefix', async () => {
      s3.on(ListObjectsV2Command).resolves({ KeyCount: 0, IsTruncated: false });

      expect(await store().list('nothing/')).toEqual([]);
    });
  });

  describe('delete', () => {
    const keys = Array.from(
      { length: 2500 },
      (_, i) => `sensors/run=1/page-${String(i + 1).padStart(5, '0')}.ndjson`,
    );

    it('deletes in quiet batches of 1,000 keys', async () => {
      s3.on(DeleteObjectsCommand).resolves({});

      await store().delete(keys);

      const calls = s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input);
      expect(calls.map((input) => input.Delete?.Objects?.length)).toEqual([1000, 1000, 500]);
      expect(calls[0]).toMatchObject({ Bucket: 'fleet-raw', Delete: { Quiet: true } });
      expect(calls[0]?.Delete?.Objects?.[0]).toEqual({ Key: 'lake/sensors/run=1/page-00001.ndjson' });
      expect(calls[2]?.Delete?.Objects?.[499]).toEqual({ Key: 'lake/sensors/run=1/page-02500.ndjson' });
    });

    it('sends nothing for no keys', async () => {
      await store().delete([]);

      expect(s3.calls()).toHaveLength(0);
    });

    it('throws, naming the keys, when S3 refused some', async () => {
      s3.on(DeleteObjectsCommand)
        .resolvesOnce({})
        .resolvesOnce({ Errors: [{ Key: 'lake/sensors/run=1/page-01001.ndjson', Code: 'AccessDenied' }] })
        .resolvesOnce({});

      const deletion = store().delete(keys);

      await expect(deletion).rejects.toThrow(TerminalError);
      await expect(deletion).rejects.toThrow(
        /1 of 2500 keys were not deleted: lake\/sensors\/run=1\/page-01001.ndjson \(AccessDenied\)/,
      );
      expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(3);
    });

    it('marks per-key failures S3 calls transient as retryable', async () => {
      s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'lake/a', Code: 'SlowDown' }] });

      await expect(store().delete(['a'])).rejects.toThrow(TransientError);
    });
  });
});
