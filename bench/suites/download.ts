import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import type { DateWindow, EventPublisher } from '../../events/index.js';
import { FleetApiSource } from '../../services/adapters/http/fleet-api-source.js';
import { FsObjectStore } from '../../services/adapters/local/fs-object-store.js';
import { downloadPage } from '../../services/downloader/download-page.js';
import { silentLogger } from '../../services/shared/logger.js';
import { seedApiConfig, windowOfDay } from '../../services/source-config/index.js';
import { startSimulator } from '../../simulator/index.js';
import type { BenchContext, BenchRow, BenchSuite } from '../suite.js';

/**
 * The downloader's throughput and memory against its floor, for pages of 50,000 sensor rows on loopback.
 *
 * - floor: a plain `fetch` of the same pages, with the same concurrency, each body written to /dev/null;
 * - pipeline: the downloader core as Lambda and `etl run` use it (FleetApiSource: token, rate budget, streaming
 *   page parser, zod row validation, NDJSON) into the filesystem object store, with a publisher that drops events.
 *
 * Each side runs in its own process (one per measurement, so peak memory is its own), and the API in another:
 * the simulator, which generates rows as it serves them (as a real API would, its cost is part of the floor), and
 * a replay server that serves the same bytes from memory, where the floor is the network alone and the pipeline's
 * own cost shows. "Extra memory per in-flight page" is the peak resident set of a first (cold) run above the
 * process's resident set before it, divided by the concurrency; time is that of a second, warm run. Targets (issue
 * "The REST source"): pipeline ≥ 80% of the floor's throughput; extra memory per in-flight page below 3× the
 * page's size on the wire. The smoke variant runs in one process on small pages: it proves the suite works, its
 * figures mean little.
 */

interface Size {
  pages: number;
  rowsPerPage: number;
  concurrency: number;
  repetitions: number;
}

const FULL: Size = { pages: 20, rowsPerPage: 50_000, concurrency: 4, repetitions: 3 };
const SMOKE: Size = { pages: 2, rowsPerPage: 5_000, concurrency: 2, repetitions: 1 };
const CLIENT = { id: 'bench', secret: 'bench-secret' } as const;
/** The simulated day: vehicles created the day before, so every one of them measures all day. */
const FLEET_START = '2026-01-01';
const DAY = '2026-01-02';

const ROLE = process.env.BENCH_DOWNLOAD_ROLE;

const JobSchema = z.object({
  mode: z.enum(['floor', 'pipeline']),
  baseUrl: z.string(),
  pages: z.number(),
  pageSize: z.number(),
  concurrency: z.number(),
  /** The window's total_pages: the downloader refuses a page whose total_pages is not the planned one. */
  totalPages: z.number(),
});
type Job = z.infer<typeof JobSchema>;

const MeasurementSchema = z.object({
  seconds: z.number(),
  bytes: z.number(),
  rows: z.number(),
  baselineRss: z.number(),
  peakRss: z.number(),
});
type Measurement = z.infer<typeof MeasurementSchema>;

const ServerReadySchema = z.object({
  url: z.string(),
  pageBytes: z.array(z.number()),
  totalPages: z.number(),
});

/** total_pages from a page body's envelope, which the seed API sends before the rows. */
function totalPagesOf(body: Buffer): number {
  const found = /"total_pages":(\d+)/.exec(body.subarray(0, 512).toString('utf8'));
  if (!found) throw new Error('no total_pages at the start of the page');
  return Number(found[1]);
}

const windowOfBench: DateWindow = windowOfDay(DAY, 'UTC');

function pageUrl(baseUrl: string, page: number, pageSize: number): string {
  const q = new URLSearchParams({
    fromCreationDate: windowOfBench.from,
    toCreationDate: windowOfBench.to,
    timeZone: 'UTC',
    pageSize: String(pageSize),
    page: String(page),
  });
  return `${baseUrl}/v1/sensors?${q}`;
}

async function token(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  return z.object({ access_token: z.string() }).parse(await response.json()).access_token;
}

/** Runs `work(i)` for i in 1..n with at most `concurrency` at once. */
async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 1;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next <= n) {
        const i = next++;
        await work(i);
      }
    }),
  );
}

/** The floor: the pages' bytes, fetched with the same concurrency and thrown away. */
async function fetchToDevNull(job: Job): Promise<{ bytes: number; rows: number }> {
  const bearer = await token(job.baseUrl);
  let bytes = 0;
  await pool(job.pages, job.concurrency, async (page) => {
    const response = await fetch(pageUrl(job.baseUrl, page, job.pageSize), {
      headers: { authorization: `Bearer ${bearer}` },
    });
    const out = createWriteStream('/dev/null');
    if (response.body === null) throw new Error(`page ${page}: no body`);
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
  });
  return { bytes, rows: 0 };
}

const droppingPublisher: EventPublisher = { publish: async () => {} };

/** The pipeline: every page through the downloader core, all tasks at once as a batch would start them. */
async function downloadThroughPipeline(job: Job, lake: string): Promise<{ bytes: number; rows: number }> {
  const source = new FleetApiSource({
    config: seedApiConfig(job.baseUrl, {
      clientId: CLIENT.id,
      clientSecretName: 'bench',
      rateBudget: { maxConcurrentRequests: job.concurrency, requestsPerSecond: 10_000 },
    }),
    secrets: { get: async () => CLIENT.secret },
  });
  const deps = {
    source,
    rawStore: new FsObjectStore(lake),
    publisher: droppingPublisher,
    logger: silentLogger,
  };
  const outcomes = await Promise.all(
    Array.from({ length: job.pages }, (_, i) =>
      downloadPage(
        {
          runId: DAY,
          dataset: 'sensors',
          window: windowOfBench,
          page: i + 1,
          pageSize: job.pageSize,
          totalPages: job.totalPages,
        },
        deps,
      ),
    ),
  );
  return { bytes: 0, rows: outcomes.reduce((sum, o) => sum + o.rows, 0) };
}

/** One measurement in this (child) process: a warm-up, then the timed run with its resident set sampled. */
/**
 * One measurement in this (child) process. Memory is measured on the first run, from a baseline taken after the
 * modules are loaded and before any page: a warmed-up heap keeps what the first run grew, so a baseline after a
 * warm-up would hide the downloader's memory. Time is measured on the second run, warm (JIT, connections).
 */
async function measure(job: Job): Promise<Measurement> {
  const lakes = await mkdtemp(path.join(tmpdir(), 'bench-download-'));
  let runs = 0;
  // A fresh lake for every run: the downloader announces pages it finds already stored without fetching them.
  const run = () =>
    job.mode === 'floor'
      ? fetchToDevNull(job)
      : downloadThroughPipeline(job, path.join(lakes, `run-${++runs}`));
  const gc = Reflect.get(globalThis, 'gc');
  if (typeof gc === 'function') gc();
  const baselineRss = process.memoryUsage.rss();
  let peakRss = baselineRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 2);
  await run();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
  const started = performance.now();
  const { bytes, rows } = await run();
  const seconds = (performance.now() - started) / 1000;
  await rm(lakes, { recursive: true, force: true });
  return { seconds, bytes, rows, baselineRss, peakRss };
}

/** The replay server: the simulator's pages, generated once, then served from memory as fast as the socket takes. */
async function startReplayServer(size: Size): Promise<RunningApi> {
  const simulator = await startSimulator(simulatorOptions(size));
  const bearer = await token(simulator.url);
  const bodies = new Map<string, Buffer>();
  for (let page = 1; page <= size.pages; page++) {
    const response = await fetch(pageUrl(simulator.url, page, size.rowsPerPage), {
      headers: { authorization: `Bearer ${bearer}` },
    });
    bodies.set(String(page), Buffer.from(await response.arrayBuffer()));
  }
  await simulator.close();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    request.resume();
    if (url.pathname === '/oauth/token') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ access_token: 'replay', token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    const body = bodies.get(url.searchParams.get('page') ?? '');
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    response.end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    ready: {
      url: `http://127.0.0.1:${port}`,
      pageBytes: [...bodies.values()].map((b) => b.byteLength),
      totalPages: totalPagesOf(bodies.get('1') ?? Buffer.alloc(0)),
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function simulatorOptions(size: Size) {
  // About rowsPerPage × pages readings on DAY (±10% per vehicle-day, so a margin), none of them faulty.
  const vehicles = 1_000;
  return {
    seed: 20,
    vehicles,
    readingsPerVehicle: Math.ceil(((size.pages + 1) * size.rowsPerPage * 1.15) / vehicles),
    fleetStart: FLEET_START,
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
  };
}

async function startSimulatorServer(size: Size): Promise<RunningApi> {
  const simulator = await startSimulator(simulatorOptions(size));
  // The simulator counts a window's rows on its first request: done here, outside any measurement.
  const bearer = await token(simulator.url);
  const pageBytes: number[] = [];
  let totalPages = 0;
  for (let page = 1; page <= size.pages; page++) {
    const response = await fetch(pageUrl(simulator.url, page, size.rowsPerPage), {
      headers: { authorization: `Bearer ${bearer}` },
    });
    const body = Buffer.from(await response.arrayBuffer());
    if (page === 1) totalPages = totalPagesOf(body);
    pageBytes.push(body.byteLength);
  }
  return { ready: { url: simulator.url, pageBytes, totalPages }, close: () => simulator.close() };
}

interface RunningApi {
  ready: z.infer<typeof ServerReadySchema>;
  close(): Promise<void>;
}

// ---- child process roles -----------------------------------------------------------------------------------

if (ROLE === 'simulator' || ROLE === 'replay') {
  const size = z
    .object({ pages: z.number(), rowsPerPage: z.number(), concurrency: z.number(), repetitions: z.number() })
    .parse(JSON.parse(process.env.BENCH_DOWNLOAD_SIZE ?? '{}'));
  const api = await (ROLE === 'simulator' ? startSimulatorServer(size) : startReplayServer(size));
  process.send?.(api.ready);
  // Stops with its parent: the parent kills it, or the IPC channel closes.
  process.on('disconnect', () => process.exit(0));
} else if (ROLE === 'client') {
  process.once('message', (message) => {
    void measure(JobSchema.parse(message)).then(
      (result) => {
        process.send?.(result);
        process.disconnect();
      },
      (error: unknown) => {
        process.send?.({ error: String(error) });
        process.exit(1);
      },
    );
  });
}

// ---- the parent: runs the roles and compares ------------------------------------------------------------------

const THIS_FILE = fileURLToPath(import.meta.url);

function child(role: string, env: Record<string, string> = {}): ChildProcess {
  return fork(THIS_FILE, [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, BENCH_DOWNLOAD_ROLE: role, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage(process: ChildProcess | undefined): Promise<unknown> {
  if (process === undefined) return Promise.reject(new Error('no benchmark process to hear from'));
  return new Promise((resolve, reject) => {
    process.once('message', resolve);
    process.once('exit', (code) =>
      reject(new Error(`a benchmark process exited (${code}) before answering`)),
    );
  });
}

async function measureInChild(job: Job, inProcess: boolean): Promise<Measurement> {
  if (inProcess) return measure(job);
  const client = child('client');
  client.send(job);
  const answer = await nextMessage(client);
  const failed = z.object({ error: z.string() }).safeParse(answer);
  if (failed.success) throw new Error(`${job.mode}: ${failed.data.error}`);
  return MeasurementSchema.parse(answer);
}

const MiB = 1024 * 1024;

/**
 * Measures both sides against one API. `inProcess` (the smoke variant) runs everything in this process: quick, and
 * enough to prove the suite works, but the figures then share one core and one heap.
 */
async function compare(
  server: 'simulator' | 'replay',
  size: Size,
  context: BenchContext,
  inProcess: boolean,
): Promise<BenchRow[]> {
  const api = inProcess ? undefined : child(server, { BENCH_DOWNLOAD_SIZE: JSON.stringify(size) });
  const local = inProcess
    ? await (server === 'simulator' ? startSimulatorServer(size) : startReplayServer(size))
    : undefined;
  try {
    const ready = local !== undefined ? local.ready : ServerReadySchema.parse(await nextMessage(api));
    const wireBytes = ready.pageBytes.reduce((a, b) => a + b, 0);
    const pageBytes = wireBytes / ready.pageBytes.length;
    context.log(
      `${server}: ${size.pages} pages of ${size.rowsPerPage.toLocaleString('en-US')} rows, ${(pageBytes / MiB).toFixed(2)} MiB each on the wire`,
    );
    const job = {
      baseUrl: ready.url,
      pages: size.pages,
      pageSize: size.rowsPerPage,
      concurrency: size.concurrency,
      totalPages: ready.totalPages,
    };
    const runs: Record<'floor' | 'pipeline', Measurement[]> = { floor: [], pipeline: [] };
    /** Cold runs with one page in flight: what the process needs whatever the concurrency (code, buffers, GC slack). */
    const single: Record<'floor' | 'pipeline', Measurement[]> = { floor: [], pipeline: [] };
    const extra = (m: Measurement) => m.peakRss - m.baselineRss;
    for (let r = 0; r < size.repetitions; r++) {
      for (const mode of ['floor', 'pipeline'] as const) {
        const m = await measureInChild({ ...job, mode }, inProcess);
        runs[mode].push(m);
        const one = await measureInChild({ ...job, mode, concurrency: 1 }, inProcess);
        single[mode].push(one);
        context.log(
          `  ${mode} run ${r + 1}: ${m.seconds.toFixed(2)} s, ${(wireBytes / MiB / m.seconds).toFixed(1)} MiB/s, ` +
            `peak +${(extra(m) / MiB).toFixed(1)} MiB (+${(extra(one) / MiB).toFixed(1)} MiB with 1 in flight)`,
        );
      }
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const seconds = (mode: 'floor' | 'pipeline') => median(runs[mode].map((m) => m.seconds));
    /** Peak extra memory with all pages in flight, per page (the issue's figure, fixed costs included). */
    const perPage = (mode: 'floor' | 'pipeline') => median(runs[mode].map(extra)) / size.concurrency;
    /** What one more page in flight adds: the slope between one page and `concurrency` pages in flight. */
    const perAddedPage = (mode: 'floor' | 'pipeline') =>
      size.concurrency > 1
        ? Math.max(0, median(runs[mode].map(extra)) - median(single[mode].map(extra))) /
          (size.concurrency - 1)
        : perPage(mode);
    const floorRate = wireBytes / seconds('floor');
    const pipelineRate = wireBytes / seconds('pipeline');
    const share = pipelineRate / floorRate;
    const against =
      server === 'simulator'
        ? 'the simulator (rows generated as served)'
        : 'a replay server (bytes from memory)';
    const memoryFigures = (mode: 'floor' | 'pipeline') => ({
      'peak extra MiB / page': perPage(mode) / MiB,
      '× wire': perPage(mode) / pageBytes,
      'MiB per added page': perAddedPage(mode) / MiB,
      '× wire (added)': perAddedPage(mode) / pageBytes,
    });
    const pipelineRows = median(runs.pipeline.map((m) => m.rows));
    return [
      {
        case: `floor, ${against}: fetch → /dev/null, ${size.concurrency} at once`,
        figures: {
          seconds: seconds('floor'),
          'MiB/s': floorRate / MiB,
          'rows/s': Math.round((size.pages * size.rowsPerPage) / seconds('floor')),
          ...memoryFigures('floor'),
        },
      },
      {
        case: `pipeline, ${against}: source → zod → NDJSON → disk, ${size.concurrency} at once`,
        figures: {
          seconds: seconds('pipeline'),
          'MiB/s': pipelineRate / MiB,
          'rows/s': Math.round(pipelineRows / seconds('pipeline')),
          'of floor': `${(share * 100).toFixed(0)}%`,
          ...memoryFigures('pipeline'),
        },
        target: {
          description: '≥ 80% of the floor; < 3× page on the wire per page in flight (peak / added)',
          met: share >= 0.8 && perAddedPage('pipeline') < 3 * pageBytes,
        },
      },
    ];
  } finally {
    api?.kill();
    await local?.close();
  }
}

export const suite: BenchSuite = {
  name: 'download',
  description:
    'pages of sensor rows on loopback: the downloader (source, validation, NDJSON, disk) against a plain fetch into /dev/null',
  async run(context) {
    if (context.smoke) return compare('simulator', SMOKE, context, true);
    return [
      ...(await compare('simulator', FULL, context, false)),
      ...(await compare('replay', FULL, context, false)),
    ];
  },
};
