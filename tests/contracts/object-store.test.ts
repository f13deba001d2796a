import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import { S3ObjectStore } from '../../services/adapters/aws/s3/object-store.js';
import { FsObjectStore } from '../../services/adapters/local/fs-object-store.js';
import { MemoryObjectStore } from '../helpers/fakes.js';
import { type Fauxqs, startFauxqs } from './emulators/fauxqs.js';
import { objectStoreContract } from './object-store.contract.js';

// A case takes milliseconds; the margin is for a machine busy with other tests (jest's default is 5 s).
jest.setTimeout(20_000);

objectStoreContract({
  name: 'MemoryObjectStore (the fake of the unit tests)',
  fresh: async () => ({ store: new MemoryObjectStore() }),
});

let folders: string;
objectStoreContract({
  name: 'FsObjectStore over a temporary folder',
  start: async () => {
    folders = mkdtempSync(path.join(tmpdir(), 'object-store-contract-'));
  },
  stop: async () => rmSync(folders, { recursive: true, force: true }),
  fresh: async () => {
    const root = mkdtempSync(path.join(folders, 'raw'));
    return {
      store: new FsObjectStore(root),
      // A sibling folder whose name starts with the store's: `raw…-beside/`.
      writeBeside: async (key, body) => {
        const file = path.join(`${root}-beside`, key);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, body);
      },
    };
  },
});

let fauxqs: Fauxqs;
let buckets = 0;
objectStoreContract({
  name: 'S3ObjectStore over fauxqs, under a prefix of its bucket',
  start: async () => {
    fauxqs = await startFauxqs();
  },
  stop: () => fauxqs.stop(),
  fresh: async () => {
    buckets += 1;
    const bucket = `lake-${buckets}`;
    await fauxqs.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return {
      store: new S3ObjectStore(fauxqs.s3, { bucket, prefix: 'raw' }),
      // Another prefix of the same bucket that starts like the store's: `raw-beside/`.
      writeBeside: async (key, body) => {
        await fauxqs.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `raw-beside/${key}`, Body: body }));
      },
    };
  },
});
