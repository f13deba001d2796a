import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as z from 'zod';

const run = promisify(execFile);
const ETL = path.resolve('bin/etl.js');
const RUN_TIMEOUT_MS = 180_000;
const DAY = '2026-11-24';
/** Small enough to run in seconds, paged small enough that the faults hit dozens of requests. */
const FLEET = ['--vehicles', '40', '--readings', '300', '--seed', '7', '--page-size', '400'];
const BUDGET = 3;
const TOKEN_TTL_S = 5;

const StatsSchema = z.object({
  requests: z.object({ token: z.number(), vehicles: z.number(), sensors: z.number() }),
  tokensIssued: z.number(),
  redundantTokenRequests: z.number(),
  maxConcurrentRequests: z.number(),
  repeatedRequests: z.number(),
  earlyRequests: z.number(),
  earlyExamples: z.array(z.object({ url: z.string(), earlyByMs: z.number() })),
  faults: z.object({
    throttled: z.number(),
    rateLimited: z.number(),
    serverErrors: z.number(),
    truncated: z.number(),
    failedPages: z.number(),
  }),
});

const RunOutputSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  lake: z.object({ raw: z.string(), warehouse: z.string() }),
  results: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  failures: z.array(z.string()),
  durationMs: z.number(),
  source: z.object({ retries: z.number(), tokenRequests: z.number(), maxInFlight: z.number() }),
  simulator: StatsSchema,
});
type RunOutput = z.infer<typeof RunOutputSchema>;

/** Runs `etl run --json`; a failed run exits 1, and its output is read all the same. */
async function etlRun(stateDir: string, extra: string[]): Promise<{ output: RunOutput; exitCode: number }> {
  const args = [ETL, 'run', '--date', DAY, '--state-dir', stateDir, ...FLEET, ...extra, '--json'];
  let stdout: string;
  let exitCode = 0;
  try {
    ({ stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const failed = z.object({ stdout: z.string(), code: z.number() }).parse(error);
    stdout = failed.stdout;
    exitCode = failed.code;
  }
  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  return { output: RunOutputSchema.parse(JSON.parse(lastLine)), exitCode };
}

/** Every file under a folder, relative, sorted; temporary files included (there must be none). */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

const archived = (stateDir: string) =>
  readFileSync(path.join(stateDir, 'events', 'archive.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line) =>
      z
        .object({ 'detail-type': z.string(), detail: z.record(z.string(), z.unknown()) })
        .parse(JSON.parse(line)),
    );

describe('etl run against a flaky, throttling API with short-lived tokens', () => {
  const calmDir = mkdtempSync(path.join(tmpdir(), 'etl-calm-'));
  const stormDir = mkdtempSync(path.join(tmpdir(), 'etl-storm-'));
  let calm: RunOutput;
  let storm: RunOutput;
  let stormExit: number;

  beforeAll(async () => {
    calm = (await etlRun(calmDir, [])).output;
    ({ output: storm, exitCode: stormExit } = await etlRun(stormDir, [
      '--throttle-rate',
      '0.3',
      '--error-rate',
      '0.1',
      '--truncate-rate',
      '0.05',
      '--token-ttl',
      String(TOKEN_TTL_S),
      '--latency',
      '40',
      '--concurrency',
      String(BUDGET),
      '--fault-seed',
      '3',
    ]));
  }, RUN_TIMEOUT_MS);

  it('succeeds, with the faults really injected', () => {
    expect(calm.status).toBe('succeeded');
    expect(storm.failures).toEqual([]);
    expect(storm.status).toBe('succeeded');
    expect(stormExit).toBe(0);
    const { faults } = storm.simulator;
    expect(faults.throttled).toBeGreaterThan(0);
    expect(faults.serverErrors).toBeGreaterThan(0);
    expect(faults.truncated).toBeGreaterThan(0);
    expect(storm.source.retries).toBeGreaterThanOrEqual(
      faults.throttled + faults.serverErrors + faults.truncated,
    );
  });

  it('stores every page exactly once, byte for byte what the fault-free run stored', () => {
    expect(storm.datasets).toEqual(calm.datasets);
    const calmFiles = filesUnder(calm.lake.raw);
    const stormFiles = filesUnder(storm.lake.raw);
    expect(stormFiles).toEqual(calmFiles);
    const sensors = calm.datasets.sensors?.pages ?? 0;
    expect(sensors).toBeGreaterThan(10);
    expect(stormFiles.filter((f) => f.startsWith('sensors/'))).toHaveLength(sensors);
    for (const file of stormFiles) {
      expect(readFileSync(path.join(storm.lake.raw, file))).toEqual(
        readFileSync(path.join(calm.lake.raw, file)),
      );
    }
    const downloaded = archived(stormDir).filter((e) => e['detail-type'] === 'PageDownloaded');
    const pages = downloaded.map((e) => `${String(e.detail.dataset)}:${String(e.detail.page)}`);
    expect(new Set(pages).size).toBe(pages.length);
    expect(pages).toHaveLength(sensors + (calm.datasets.vehicles?.pages ?? 0));
  });

  it('answers what the fault-free run answers', () => {
    // Same rows in the lake; the averages may differ in the last bits only, as parallel float sums do.
    const answer = (output: RunOutput) => output.results.avg_seconds_between_measurements ?? [];
    const expected = answer(calm);
    expect(expected.length).toBeGreaterThan(0);
    expect(answer(storm).map((r) => [r.vehicle_type, r.vehicles])).toEqual(
      expected.map((r) => [r.vehicle_type, r.vehicles]),
    );
    answer(storm).forEach((row, i) => {
      expect(row.avg_seconds_between_measurements).toBeCloseTo(
        Number(expected[i]?.avg_seconds_between_measurements),
        9,
      );
    });
  });

  it('never asked before a Retry-After, never exceeded the budget, asked one token per expiry', () => {
    const seen = storm.simulator;
    expect(seen.earlyExamples).toEqual([]);
    expect(seen.earlyRequests).toBe(0);
    expect(seen.maxConcurrentRequests).toBeLessThanOrEqual(BUDGET);
    expect(storm.source.maxInFlight).toBeLessThanOrEqual(BUDGET);
    expect(seen.redundantTokenRequests).toBe(0);
    // One token to start with, then at most one per expiry while the run lasted.
    expect(seen.tokensIssued).toBeLessThanOrEqual(
      1 + Math.ceil(storm.durationMs / (TOKEN_TTL_S * 1000 * 0.9)),
    );
  });
});

describe('etl run when a page always fails', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'etl-dead-'));
  let outcome: Awaited<ReturnType<typeof etlRun>>;

  beforeAll(async () => {
    outcome = await etlRun(stateDir, ['--fail-page', 'sensors:2']);
  }, RUN_TIMEOUT_MS);

  it('fails the run with a non-zero exit, naming the page and the API’s reason', () => {
    expect(outcome.exitCode).toBe(1);
    expect(outcome.output.status).toBe('failed');
    expect(outcome.output.failures).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^downloader: sensors page 2: .*HTTP 400.*always fails/),
        expect.stringMatching(/^downloader: dead letter/),
      ]),
    );
  });

  it(
    'announces EtlFailed with the reason, and the page is in the dead-letter queue',
    async () => {
      const failed = archived(stateDir).filter((e) => e['detail-type'] === 'EtlFailed');
      expect(failed).toEqual([
        expect.objectContaining({
          detail: expect.objectContaining({ stage: 'downloader', dataset: 'sensors', page: 2 }),
        }),
      ]);
      const { stdout } = await run(process.execPath, [ETL, 'dlq', 'list', '--state-dir', stateDir, '--json']);
      expect(JSON.parse(stdout).messages).toEqual([expect.objectContaining({ dataset: 'sensors', page: 2 })]);
    },
    RUN_TIMEOUT_MS,
  );

  it('leaves nothing partial in the lake: no object for the page, no temporary file', () => {
    const files = filesUnder(outcome.output.lake.raw);
    expect(files).not.toContain('sensors/run=2026-11-24/page-00002.ndjson');
    expect(files.filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
    const planned = archived(stateDir).find(
      (e) => e['detail-type'] === 'PagesPlanned' && e.detail.dataset === 'sensors',
    );
    const sensorPages = Number(planned?.detail.totalPages);
    expect(sensorPages).toBeGreaterThan(2);
    // Every other page is stored whole.
    expect(files.filter((f) => f.startsWith('sensors/'))).toHaveLength(sensorPages - 1);
  });
});
