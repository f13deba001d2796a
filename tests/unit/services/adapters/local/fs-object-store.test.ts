import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsObjectStore } from '../../../../../services/adapters/local/fs-object-store.js';

const store = () => new FsObjectStore(mkdtempSync(path.join(tmpdir(), 'store-')));

describe('FsObjectStore', () => {
  it('stores, lists, reads and deletes objects by key', async () => {
    const s = store();
    await s.put('sensors/run=1/page-00001.ndjson', 'a\n');
    await s.put('sensors/run=1/page-00002.ndjson', new TextEncoder().encode('b\n'));
    await s.put('vehicles/run=1/page-00001.ndjson', 'c\n');
    expect(await s.list('sensors/')).toEqual([
      'sensors/run=1/page-00001.ndjson',
      'sensors/run=1/page-00002.ndjson',
    ]);
    expect(new TextDecoder().decode(await s.get('vehicles/run=1/page-00001.ndjson'))).toBe('c\n');
    await s.delete(['sensors/run=1/page-00001.ndjson']);
    expect(await s.exists('sensors/run=1/page-00001.ndjson')).toBe(false);
    expect(await s.get('nope')).toBeUndefined();
  });

  it('leaves nothing under the key when a streamed body fails midway', async () => {
    const s = store();
    async function* failing() {
      yield new TextEncoder().encode('{"row":1}\n');
      throw new Error('connection reset');
    }
    await expect(s.put('sensors/run=1/page-00001.ndjson', failing())).rejects.toThrow('connection reset');
    expect(await s.exists('sensors/run=1/page-00001.ndjson')).toBe(false);
    expect(readdirSync(s.pathOf('sensors/run=1'))).toEqual([]);
  });

  it('removes the temporary files of writes a killed process left, and nothing else', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'store-'));
    const s = new FsObjectStore(root);
    await s.put('sensors/run=1/page-00001.ndjson', 'a\n');
    const folder = s.pathOf('sensors/run=1');
    const abandoned = '.page-00002.ndjson.0b8e7c1e-3f0a-4f6e-9d1c-2a7b5e4c9f10.tmp';
    writeFileSync(path.join(folder, abandoned), '{"cut');
    writeFileSync(path.join(folder, '.keep'), '');
    expect(FsObjectStore.removeAbandonedWrites(root)).toBe(1);
    expect(readdirSync(folder).sort()).toEqual(['.keep', 'page-00001.ndjson']);
    expect(FsObjectStore.removeAbandonedWrites(path.join(root, 'missing'))).toBe(0);
  });

  it('refuses keys that escape the store', async () => {
    await expect(store().put('../outside.txt', 'x')).rejects.toThrow(/escapes the store/);
  });

  it('names its location as a file URL', () => {
    expect(store().location).toMatch(/^file:\/\/\/.+[^/]$/);
  });
});
