import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsObjectStore } from '../../../services/adapters/local/fs-object-store.js';
import { downloadPage } from '../../../services/downloader/download-page.js';
import { TransientError } from '../../../services/shared/errors.js';
import type { RunningSimulator } from '../../../simulator/index.js';
import { creationWindow } from '../../../simulator/index.js';
import { RecordingPublisher, recordingLogger } from '../../helpers/fakes.js';
import { DAY_WINDOW, fleetSource, pageRequest, simulator } from '../simulator/factories.js';

const SLOW = 60_000;

/** Every file under a folder, hidden temporary files included. */
const filesUnder = (root: string): string[] => {
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
      .sort();
  } catch {
    return [];
  }
};

describe('FleetApiSource against the simulator’s faults', () => {
  const sims: RunningSimulator[] = [];
  const start = async (options: Parameters<typeof simulator>[0]) => {
    const sim = await simulator(options);
    sims.push(sim);
    return sim;
  };

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
  });

  it(
    'keeps concurrent requests within the budget, however many downloads wait',
    async () => {
      // Prepare: responses take 80 ms, so requests overlap on the server.
      const sim = await start({ latencyMs: 80 });
      const source = fleetSource(sim.url, {
        rateBudget: { maxConcurrentRequests: 3, requestsPerSecond: 1_000 },
      });
      const pages = await source.countPages(pageRequest({ pageSize: 40 }));

      // Act
      await Promise.all(
        Array.from({ length: pages }, (_, i) =>
          source.countPages(pageRequest({ page: i + 1, pageSize: 40 })),
        ),
      );

      // Assess
      expect(pages).toBeGreaterThan(8);
      expect(sim.stats().maxConcurrentRequests).toBe(3);
      expect(source.stats().maxInFlight).toBe(3);
    },
    SLOW,
  );

  it(
    'stays under the API’s rate limit when the budget matches it',
    async () => {
      const sim = await start({ rateLimit: 10 });
      const source = fleetSource(sim.url, {
        rateBudget: { maxConcurrentRequests: 8, requestsPerSecond: 10 },
      });
      const started = Date.now();

      await Promise.all(Array.from({ length: 25 }, () => source.countPages(pageRequest({ pageSize: 500 }))));

      // 1 token + 25 pages at 10 per second: the last ones wait for the window.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
      expect(sim.stats().faults.rateLimited).toBe(0);
    },
    SLOW,
  );

  it(
    'recovers from the rate limit when the budget is above it, never retrying before Retry-After',
    async () => {
      const sim = await start({ rateLimit: 5 });
      const source = fleetSource(sim.url, {
        rateBudget: { maxConcurrentRequests: 8, requestsPerSecond: 100 },
        retry: { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 500, maxElapsedMs: 60_000 },
      });

      const totals = await Promise.all(
        Array.from({ length: 12 }, (_, i) => source.countPages(pageRequest({ page: i + 1, pageSize: 100 }))),
      );

      const seen = sim.stats();
      expect(new Set(totals).size).toBe(1);
      expect(seen.faults.rateLimited).toBeGreaterThan(0);
      expect(seen.earlyRequests).toBe(0);
    },
    SLOW,
  );

  it(
    'asks one token per expiry while pages keep coming',
    async () => {
      const sim = await start({ tokenTtlSeconds: 1, latencyMs: 20 });
      const source = fleetSource(sim.url, {
        rateBudget: { maxConcurrentRequests: 4, requestsPerSecond: 40 },
      });
      const started = Date.now();

      for (let round = 0; round < 10; round++) {
        await Promise.all(
          Array.from({ length: 4 }, (_, i) => source.countPages(pageRequest({ page: i + 1, pageSize: 200 }))),
        );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      const seen = sim.stats();
      const seconds = (Date.now() - started) / 1000;
      expect(seen.redundantTokenRequests).toBe(0);
      expect(seen.unauthorized).toBe(0);
      expect(seen.tokensIssued).toBeGreaterThanOrEqual(Math.floor(seconds) - 1);
      expect(seen.tokensIssued).toBeLessThanOrEqual(Math.ceil(seconds / 0.9) + 1);
    },
    SLOW,
  );

  it(
    'leaves no object and no temporary file when every body is cut short',
    async () => {
      // Prepare
      const sim = await start({ truncateRate: 1 });
      const lake = mkdtempSync(path.join(tmpdir(), 'lake-'));
      const deps = {
        source: fleetSource(sim.url, {
          retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxElapsedMs: 5_000 },
        }),
        rawStore: new FsObjectStore(lake),
        publisher: new RecordingPublisher(),
        logger: recordingLogger(),
      };
      const expectedRows = sim.world.count('sensors', creationWindow(DAY_WINDOW.from, DAY_WINDOW.to));

      // Act
      const error: unknown = await downloadPage(
        {
          runId: '2026-03-03',
          dataset: 'sensors',
          window: DAY_WINDOW,
          page: 1,
          pageSize: 500,
          totalPages: 1,
        },
        deps,
      ).catch((e: unknown) => e);

      // Assess
      expect(expectedRows).toBeGreaterThan(500);
      expect(error).toBeInstanceOf(TransientError);
      expect(String(error)).toMatch(
        /gave up on sensors page 1 after 3 attempts; last: .*(cut short|connection broke)/,
      );
      expect(sim.stats().faults.truncated).toBe(3);
      expect(filesUnder(lake)).toEqual([]);
      expect(deps.publisher.events).toEqual([]);
    },
    SLOW,
  );
});
