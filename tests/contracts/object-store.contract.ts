import type { ObjectStore } from '../../services/ports/object-store.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

export interface ObjectStoreUnderTest {
  store: ObjectStore;
  /**
   * Writes an object beside the store, where the same bucket or disk holds other keys (another prefix of the
   * bucket, a sibling folder whose name starts like the store's): the store must not see it. Undefined for a store
   * with nothing beside it.
   */
  writeBeside?(key: string, body: string): Promise<void>;
}

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function* failingAfter(part: string): AsyncIterable<Uint8Array> {
  yield new TextEncoder().encode(part);
  throw new Error('connection reset by the fleet API');
}

const PAGE = 'sensors/run=2026-11-24/page-00001.ndjson';

/** What the services may rely on, whether a bucket or a folder holds the lake (services/ports/object-store.ts). */
export function objectStoreContract(fixture: AdapterFixture<ObjectStoreUnderTest>): void {
  describeContract('ObjectStore', fixture, (fresh) => {
    it('gives back the bytes it stored, whichever way the body came, and counts them', async () => {
      const { store } = await fresh();
      const bodies = {
        'a/string.ndjson': '{"vehicle_id":"v-1","note":"é"}\n',
        'a/bytes.ndjson': new TextEncoder().encode('{"b":2}\n'),
        'a/stream.ndjson': chunks('{"c":', '3}\n', '{"c":4}\n'),
        'a/empty.ndjson': '',
      };

      const stored = await Promise.all(Object.entries(bodies).map(([key, body]) => store.put(key, body)));

      // Bytes, not characters: é is two of them.
      expect(stored).toEqual([{ bytes: 33 }, { bytes: 8 }, { bytes: 16 }, { bytes: 0 }]);
      expect(text(await store.get('a/string.ndjson'))).toBe('{"vehicle_id":"v-1","note":"é"}\n');
      expect(text(await store.get('a/bytes.ndjson'))).toBe('{"b":2}\n');
      expect(text(await store.get('a/stream.ndjson'))).toBe('{"c":3}\n{"c":4}\n');
      expect(await store.get('a/empty.ndjson')).toEqual(new Uint8Array());
      expect(await store.get('a/empty.ndjson')).toBeInstanceOf(Uint8Array);
    });

    it('answers undefined and false for a key it does not hold, and for a folder of keys', async () => {
      const { store } = await fresh();
      await store.put(PAGE, 'x\n');

      expect(await store.get('sensors/run=2026-11-24/page-00002.ndjson')).toBeUndefined();
      expect(await store.exists('sensors/run=2026-11-24/page-00002.ndjson')).toBe(false);
      expect(await store.exists('sensors/run=2026-11-24')).toBe(false);
      expect(await store.get('sensors/run=2026-11-24')).toBeUndefined();
      expect(await store.exists(PAGE)).toBe(true);
    });

    it('replaces an object put again under its key', async () => {
      const { store } = await fresh();
      await store.put(PAGE, 'first attempt, longer than the second\n');
      await store.put(PAGE, 'second\n');
      expect(text(await store.get(PAGE))).toBe('second\n');
      expect(await store.list('sensors/')).toEqual([PAGE]);
    });

    it('keeps what was under the key, and leaves nothing new, when a streamed body fails midway', async () => {
      const { store } = await fresh();
      await store.put(PAGE, 'the page stored last night\n');

      await expect(store.put(PAGE, failingAfter('{"cut'))).rejects.toThrow();
      await expect(
        store.put('sensors/run=2026-11-24/page-00002.ndjson', failingAfter('{"cut')),
      ).rejects.toThrow();

      expect(text(await store.get(PAGE))).toBe('the page stored last night\n');
      expect(await store.exists('sensors/run=2026-11-24/page-00002.ndjson')).toBe(false);
      expect(await store.list('')).toEqual([PAGE]);
    });

    it('lists the keys that start with a prefix, relative to the store, sorted, at any depth', async () => {
      const { store, writeBeside } = await fresh();
      const keys = [
        'vehicles/run=2026-11-24/page-00001.ndjson',
        'sensors/run=2026-11-25/page-00001.ndjson',
        'sensors/run=2026-11-24/page-00002.ndjson',
        PAGE,
        'rejected/sensors/run=2026-11-24/page-00001.ndjson',
      ];
      for (const key of keys) await store.put(key, `${key}\n`);
      await writeBeside?.('sensors/run=2026-11-24/page-00009.ndjson', 'not in this store\n');

      expect(await store.list('sensors/')).toEqual([
        PAGE,
        'sensors/run=2026-11-24/page-00002.ndjson',
        'sensors/run=2026-11-25/page-00001.ndjson',
      ]);
      // A prefix is a string prefix, not a folder: `run=2026-11-2` covers both nights.
      expect(await store.list('sensors/run=2026-11-2')).toHaveLength(3);
      expect(await store.list('sensors/run=2026-11-24/')).toEqual([
        PAGE,
        'sensors/run=2026-11-24/page-00002.ndjson',
      ]);
      expect(await store.list('')).toEqual([...keys].sort());
      expect(await store.list('trailers/')).toEqual([]);
    });

    it('lists keys as they were put: spaces, non-ASCII letters, equals signs and leading dots', async () => {
      const { store } = await fresh();
      const keys = [
        'results/reports/run=2026-11-24/report.html',
        'results/queries/avg seconds (per type).csv',
        'results/queries/véhicules.csv',
        'results/.manifest.json',
      ];
      for (const key of keys) await store.put(key, 'x');

      expect(await store.list('results/')).toEqual([...keys].sort());
      for (const key of keys) expect(text(await store.get(key))).toBe('x');
    });

    it('deletes the keys it is given, and is quiet about keys it does not hold', async () => {
      const { store } = await fresh();
      await store.put(PAGE, 'a');
      await store.put('sensors/run=2026-11-24/page-00002.ndjson', 'b');

      await store.delete([PAGE, 'sensors/run=2026-11-24/page-00003.ndjson']);
      await store.delete([]);

      expect(await store.exists(PAGE)).toBe(false);
      expect(await store.get(PAGE)).toBeUndefined();
      expect(await store.list('sensors/')).toEqual(['sensors/run=2026-11-24/page-00002.ndjson']);
    });

    it('names its root as a URL without a trailing slash, for LOCATION clauses', async () => {
      const { store } = await fresh();
      expect(store.location).toMatch(/^[a-z0-9]+:\/\/\S*[^/]$/);
    });
  });
}
