import { mkdtemp, rm, stat } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type DateWindow,
  DEFAULT_BUS_NAME,
  DetailType,
  EVENT_SOURCE,
  type EventBridgeEnvelope,
  type OutgoingEvent,
  toOutgoingEvent,
} from '../../events/index.js';
import { compilePattern, matchesCompiled } from '../../local/event-pattern.js';
import { LocalBus } from '../../local/local-bus.js';
import { LocalRuntime } from '../../local/runtime.js';
import { FixedSqlSource } from '../../services/adapters/local/fixed-sql-source.js';
import { systemClock } from '../../services/ports/clock.js';
import type { FetchedPage, FleetSource, PageRequest, PageSink } from '../../services/ports/fleet-source.js';
import type { QueryEngine } from '../../services/ports/query-engine.js';
import { ndjsonChunks } from '../../services/shared/rows.js';
import { nightlyWindow, runIdFor, scheduledTimeForDay } from '../../services/shared/run-identity.js';
import { type EventPattern, topology } from '../../services/topology.js';
import type { BenchContext, BenchRow, BenchSuite } from '../suite.js';

/**
 * The local runtime's own costs, without any API or SQL work.
 *
 * - bus: the LocalBus as `etl run` builds it (archive file on disk) with ten rules — the topology's three and
 *   seven more of the kinds alerting and metrics rules use (detail-type lists, prefix, suffix, anything-but,
 *   numeric, exists, $or) — with targets that do nothing. Valid fleet events, built by the events/ helpers before
 *   the clock starts, are published one per call as producers do; the time ends when the archive is flushed.
 * - pattern matching alone: the same ten compiled rules against the same envelopes, without the bus.
 * - per page: the LocalRuntime with the real planner, downloader, completion tracker, SQLite queue and ledger
 *   and the bus, fed by a source whose pages are one row long and answer at once. What a page still costs is the
 *   queue (send, receive, delete), the downloader's handler (Middy, SQS record parsing, zod task validation, an
 *   existence check and an atomic write of one ~100-byte object on disk: temp file, rename), a PageDownloaded
 *   (zod-validated, archived, matched against the rules) and the completion tracker (zod envelope validation,
 *   a ledger insert and a progress read in SQLite). The clock runs from the schedule firing to DownloadsDrained.
 *
 * The smoke variant is too small to warm the JIT: it proves the suite works, its figures mean little.
 */

interface Size {
  busEvents: number;
  pages: number;
  repetitions: number;
}

const FULL: Size = { busEvents: 100_000, pages: 2_000, repetitions: 3 };
const SMOKE: Size = { busEvents: 2_000, pages: 50, repetitions: 1 };

const DAY = '2026-01-02';
const window: DateWindow = nightlyWindow(scheduledTimeForDay(DAY));
const runId = runIdFor(window);

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
/** User and system CPU of this process (its libuv threads included): less moved by other jobs than wall time. */
const cpuSecondsSince = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
};
/** The 1-minute load average, so figures measured on a busy machine can be told apart. */
const load = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

/** Seven rules of the kinds an operator adds next to the topology's three (alerts, metrics, audit). */
const extraRules: Record<string, EventPattern> = {
  'all-fleet-events': { source: [{ prefix: 'fleet-' }] },
  'downloader-failures': {
    source: [EVENT_SOURCE],
    'detail-type': [DetailType.EtlFailed],
    detail: { stage: ['downloader'] },
  },
  'big-sensor-pages': {
    source: [EVENT_SOURCE],
    'detail-type': [DetailType.PageDownloaded],
    detail: { dataset: ['sensors'], rows: [{ numeric: ['>=', 40_000] }] },
  },
  'not-vehicles': { source: [EVENT_SOURCE], detail: { dataset: [{ 'anything-but': ['vehicles'] }] } },
  'ndjson-objects': { detail: { key: [{ suffix: '.ndjson' }] } },
  'run-ends': {
    source: [EVENT_SOURCE],
    $or: [{ 'detail-type': [DetailType.EtlDone] }, { detail: { reason: [{ exists: true }] } }],
  },
  'live-2026-runs': { 'replay-name': [{ exists: false }], detail: { runId: [{ prefix: '2026-' }] } },
};

function tenRules(): { name: string; pattern: EventPattern }[] {
  const fromTopology = Object.entries(topology.services).flatMap(([name, service]) =>
    service.trigger.kind === 'rule' ? [{ name, pattern: service.trigger.pattern as EventPattern }] : [],
  );
  return [...fromTopology, ...Object.entries(extraRules).map(([name, pattern]) => ({ name, pattern }))];
}

/** A night's mix: mostly PageDownloaded, a plan per 500 pages, a failure per 1,000. */
function fleetEvents(n: number): OutgoingEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const dataset = i % 5 === 0 ? 'vehicles' : 'sensors';
    if (i % 500 === 0) {
      return toOutgoingEvent(DetailType.PagesPlanned, {
        runId,
        dataset,
        window,
        totalPages: 500,
        pageSize: 50_000,
        plannedAt: '2026-01-03T01:00:05.000Z',
      });
    }
    if (i % 1_000 === 999) {
      return toOutgoingEvent(DetailType.EtlFailed, {
        runId,
        stage: 'downloader',
        dataset,
        page: (i % 500) + 1,
        reason: 'HTTP 503 after 5 attempts',
      });
    }
    return toOutgoingEvent(DetailType.PageDownloaded, {
      runId,
      dataset,
      page: (i % 500) + 1,
      rows: 50_000,
      bytes: 6_100_000,
      key: `raw/${dataset}/run=${runId}/page-${(i % 500) + 1}.ndjson`,
    });
  });
}

interface BusRun {
  seconds: number;
  cpuSeconds: number;
  deliveries: number;
  archiveBytes: number;
  envelopes: EventBridgeEnvelope[];
}

/** One bus as `etl run` builds it, `events` published `batch` per call, timed until the archive is on disk. */
async function publishAll(events: readonly OutgoingEvent[], batch: number, keep: boolean): Promise<BusRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-bus-'));
  const archiveFile = path.join(dir, 'events', 'archive.ndjson');
  const bus = new LocalBus({ archiveFile, busName: DEFAULT_BUS_NAME });
  let deliveries = 0;
  for (const rule of tenRules()) bus.addRule({ ...rule, target: () => void deliveries++ });
  const envelopes: EventBridgeEnvelope[] = [];
  if (keep) bus.onEvent((e) => envelopes.push(e));
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < events.length; i += batch) await bus.publish(events.slice(i, i + batch));
  await bus.close();
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu);
  const archiveBytes = (await stat(archiveFile)).size;
  await rm(dir, { recursive: true, force: true });
  return { seconds, cpuSeconds, deliveries, archiveBytes, envelopes };
}

async function measureBus(size: Size, context: BenchContext): Promise<BenchRow[]> {
  const events = fleetEvents(size.busEvents);
  const rules = tenRules();
  // The first run warms the JIT and keeps the envelopes for the matching-only case; it is not counted.
  const { envelopes } = await publishAll(events, 1, true);
  const rows: BenchRow[] = [];
  // One event per call is how the services publish; ten per call is PutEvents' largest batch.
  for (const batch of [1, 10]) {
    const runs: BusRun[] = [];
    for (let r = 1; r <= size.repetitions; r++) {
      const run = await publishAll(events, batch, false);
      runs.push(run);
      context.log(
        `bus, ${batch} per publish, run ${r}: ${events.length.toLocaleString('en-US')} events in ${run.seconds.toFixed(2)} s, ` +
          `${run.deliveries.toLocaleString('en-US')} deliveries, load ${load()}`,
      );
    }
    const seconds = median(runs.map((m) => m.seconds));
    const eventsPerSecond = Math.round(events.length / seconds);
    rows.push({
      case: `bus: ${events.length.toLocaleString('en-US')} events, ${batch === 1 ? 'one' : batch} per publish, 10 rules, no-op targets, archive on disk`,
      figures: {
        seconds,
        'events/s': eventsPerSecond,
        'rule evaluations/s': Math.round((events.length * rules.length) / seconds),
        'µs / event': (seconds * 1e6) / events.length,
        'CPU µs / event': (median(runs.map((m) => m.cpuSeconds)) * 1e6) / events.length,
        'deliveries / event': (runs[0]?.deliveries ?? 0) / events.length,
        'archive bytes / event': Math.round((runs[0]?.archiveBytes ?? 0) / events.length),
        load: load(),
      },
      target: { description: '≥ 20,000 events/s with ten rules', met: eventsPerSecond >= 20_000 },
    });
  }

  const compiled = rules.map((rule) => compilePattern(rule.pattern));
  const matchRuns: number[] = [];
  for (let r = 0; r <= size.repetitions; r++) {
    let matched = 0;
    const started = performance.now();
    for (const envelope of envelopes)
      for (const pattern of compiled) if (matchesCompiled(pattern, envelope)) matched++;
    if (r > 0) matchRuns.push((performance.now() - started) / 1000);
    if (r === size.repetitions)
      context.log(`matching alone: ${matched} matches of ${envelopes.length * compiled.length}`);
  }
  const matchSeconds = median(matchRuns);
  rows.push({
    case: 'pattern matching alone: the same 10 rules against the same envelopes',
    figures: {
      seconds: matchSeconds,
      'rule evaluations/s': Math.round((envelopes.length * compiled.length) / matchSeconds),
      'µs / event': (matchSeconds * 1e6) / envelopes.length,
      load: load(),
    },
  });
  return rows;
}

/** Pages of one row that answer at once: what is left is the runtime's path around a download. */
class NoOpSource implements FleetSource {
  constructor(private readonly pagesPerDataset: number) {}

  windowFor(scheduledTime: Date): DateWindow {
    return nightlyWindow(scheduledTime);
  }

  maxPageSize(): number {
    return 50_000;
  }

  async countPages(): Promise<number> {
    return this.pagesPerDataset;
  }

  async fetchPage<T>(request: PageRequest, sink: PageSink<T>): Promise<FetchedPage<T>> {
    const row =
      request.dataset === 'vehicles'
        ? { vehicle_id: `V${request.page}`, vehicle_type: 'truck', created_at: window.from }
        : {
            vehicle_id: `V${request.page}`,
            timestamp: Date.parse(window.from),
            sensor_value: 1,
            created_at: window.from,
          };
    return {
      totalPages: this.pagesPerDataset,
      rows: 1,
      rejected: [],
      stored: await sink(ndjsonChunks([row])),
    };
  }
}

/** The query stage is not measured: one statement that returns at once. */
const noOpEngine: QueryEngine = {
  execute: async () => ({ queryExecutionId: 'bench', dataScannedBytes: 0, durationMs: 0 }),
};

async function measurePages(size: Size, context: BenchContext): Promise<BenchRow[]> {
  const pagesPerDataset = Math.ceil(size.pages / 2);
  const runs: { seconds: number; cpuSeconds: number }[] = [];
  for (let r = 0; r < size.repetitions + 1; r++) {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'bench-pages-'));
    const runtime = new LocalRuntime({
      stateDir,
      ports: {
        source: new NoOpSource(pagesPerDataset),
        engine: noOpEngine,
        sqlSource: new FixedSqlSource([{ name: '10_noop.sql', text: 'SELECT 1' }]),
        clock: systemClock,
        datasets: ['vehicles', 'sensors'],
        database: 'bench',
        pageSize: 50_000,
      },
    });
    let drainedAt = 0;
    let cpuSeconds = 0;
    const cpu = process.cpuUsage();
    runtime.bus.onEvent((event) => {
      if (event['detail-type'] !== DetailType.DownloadsDrained) return;
      drainedAt = performance.now();
      cpuSeconds = cpuSecondsSince(cpu);
    });
    const started = performance.now();
    runtime.fireSchedule(scheduledTimeForDay(DAY));
    await runtime.settled();
    await runtime.close();
    await rm(stateDir, { recursive: true, force: true });
    if (drainedAt === 0) throw new Error('the run settled without DownloadsDrained');
    const seconds = (drainedAt - started) / 1000;
    context.log(
      `pages run ${r}${r === 0 ? ' (warm-up)' : ''}: ${pagesPerDataset * 2} pages drained in ${seconds.toFixed(2)} s, ` +
        `${((seconds * 1000) / (pagesPerDataset * 2)).toFixed(2)} ms/page (CPU ${((cpuSeconds * 1000) / (pagesPerDataset * 2)).toFixed(2)}), load ${load()}`,
    );
    if (r > 0) runs.push({ seconds, cpuSeconds });
  }
  const pages = pagesPerDataset * 2;
  const seconds = median(runs.map((m) => m.seconds));
  const msPerPage = (seconds * 1000) / pages;
  return [
    {
      case: `per page: ${pages.toLocaleString('en-US')} one-row pages (no-op fetch; a ~100 B object still written): queue → downloader → bus → tracker → ledger`,
      figures: {
        seconds,
        'pages/s': Math.round(pages / seconds),
        'ms / page': msPerPage,
        'CPU ms / page': (median(runs.map((m) => m.cpuSeconds)) * 1000) / pages,
        load: load(),
      },
      target: { description: '< 5 ms per page for the event, queue and ledger path', met: msPerPage < 5 },
    },
  ];
}

export const suite: BenchSuite = {
  name: 'overheads',
  description:
    'the local bus with ten rules, and the per-page path of queue, ledger and events with a no-op download',
  async run(context) {
    const size = context.smoke ? SMOKE : FULL;
    return [...(await measureBus(size, context)), ...(await measurePages(size, context))];
  },
};
