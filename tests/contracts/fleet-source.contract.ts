import type { Dataset } from '../../events/index.js';
import type { FleetSource, PageRequest } from '../../services/ports/fleet-source.js';
import { isRetryable } from '../../services/shared/errors.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

export interface FleetSourceUnderTest {
  source: FleetSource;
}

/** The night of 2026-03-03 in UTC, as the schedule fires for it at 01:00 the morning after. */
const FIRED_AT = new Date('2026-03-04T01:00:00.000Z');
const WINDOW = { from: '2026-03-03T00:00:00.000Z', to: '2026-03-04T00:00:00.000Z', timeZone: 'UTC' };

const request = (dataset: Dataset, page: number, pageSize: number, extra: Partial<PageRequest> = {}) => ({
  dataset,
  window: WINDOW,
  page,
  pageSize,
  ...extra,
});

/** A sink that reads the page's NDJSON whole, as the object store's put would store it. */
async function lines(ndjson: AsyncIterable<Uint8Array>): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of ndjson) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '');
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the fetch to fail');
  return error;
}

/**
 * What the planner and the downloader rely on, whichever API is behind the source: a window per night, pages that
 * split the window's rows without gap or overlap, and a page refused whole when it no longer lines up with its plan
 * (services/ports/fleet-source.ts).
 */
export function fleetSourceContract(fixture: AdapterFixture<FleetSourceUnderTest>): void {
  describeContract('FleetSource', fixture, (fresh) => {
    it('gives each night a half-open window that the next night’s starts where it ends', async () => {
      const { source } = await fresh();
      const night = source.windowFor(FIRED_AT);
      const next = source.windowFor(new Date(FIRED_AT.getTime() + 24 * 3_600_000));

      expect(night).toEqual(WINDOW);
      expect(next.from).toBe(night.to);
    });

    it('asks for at most 50,000 rows per page', async () => {
      const { source } = await fresh();
      for (const dataset of ['vehicles', 'sensors'] as const) {
        expect(source.maxPageSize(dataset)).toBeGreaterThanOrEqual(1);
        expect(source.maxPageSize(dataset)).toBeLessThanOrEqual(50_000);
      }
    });

    it.each(['vehicles', 'sensors'] as const)(
      'splits the night’s %s into the pages it counts, each row on one page only',
      async (dataset) => {
        const { source } = await fresh();
        const whole = await source.fetchPage(request(dataset, 1, 50_000), lines);
        const pageSize = Math.max(1, Math.ceil(whole.rows / 4));

        const pages = await source.countPages(request(dataset, 1, pageSize));
        const fetched = [];
        for (let page = 1; page <= pages; page += 1)
          fetched.push(await source.fetchPage(request(dataset, page, pageSize), lines));

        expect(whole.rows).toBeGreaterThan(0);
        expect(whole.stored).toHaveLength(whole.rows);
        expect(pages).toBe(Math.ceil(whole.rows / pageSize));
        for (const [index, page] of fetched.entries()) {
          expect(page.totalPages).toBe(pages);
          expect(page.rows).toBe(page.stored.length);
          expect(page.rows).toBe(index < pages - 1 ? pageSize : whole.rows - pageSize * (pages - 1));
          expect(page.rejected).toEqual([]);
        }
        const rows = fetched.flatMap((page) => page.stored);
        expect(new Set(rows).size).toBe(rows.length);
        expect([...rows].sort()).toEqual([...whole.stored].sort());
        for (const row of rows) expect(JSON.parse(row)).toEqual(expect.any(Object));
      },
    );

    it('refuses a page whose count of pages moved since the plan, as a failure retrying cannot mend', async () => {
      const { source } = await fresh();
      const pages = await source.countPages(request('sensors', 1, 100));

      const error = await failureOf(
        source.fetchPage(request('sensors', 1, 100, { expectedTotalPages: pages + 1 }), lines),
      );

      expect(error.message).toMatch(/total_pages changed since planning/);
      expect(isRetryable(error)).toBe(false);
    });

    it('fails the page with the sink’s own error when the sink cannot store it', async () => {
      const { source } = await fresh();
      const error = await failureOf(
        source.fetchPage(request('vehicles', 1, 10), async () => {
          throw new Error('ENOSPC: no space left on device');
        }),
      );
      expect(error.message).toMatch(/no space left on device/);
    });
  });
}
