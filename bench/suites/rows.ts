import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Dataset } from '../../events/index.js';
import { PageBodyParser } from '../../services/adapters/http/page-body-parser.js';
import { type RowCheckPath, rowReader } from '../../services/adapters/http/row-reader.js';
import type { RowsMapping } from '../../services/source-config/index.js';
import { DEFAULT_ROWS, windowOfDay } from '../../services/source-config/index.js';
import { creationWindow, FleetWorld } from '../../simulator/index.js';
import { sensorJson, vehicleJson } from '../../simulator/page-body.js';
import type { BenchContext, BenchRow, BenchSuite } from '../suite.js';

/**
 * The downloader's per-row work on one core: a page body as it arrives (64 KiB chunks of UTF-8) → the page parser
 * (structure, JSON, the row check, NDJSON out), for pages of 50,000 rows the simulator writes, checked by the zod
 * schemas alone (as before issue 17) and by the fast path (docs/decisions/0087), taking turns in this process. CPU
 * seconds are user + system of this process (garbage collection included); rows per second per core is rows ÷ CPU
 * seconds. The NDJSON both produce is hashed: the fast path must store the same bytes. Cases: the sensors as the
 * simulator writes them (canonical rows, read on their text), the same rows under a configuration that renames a
 * field (each row parsed, the object check instead of zod), and the vehicles. Target (issue 17): ≥ 2 million
 * rows per second per core on the sensors.
 */

interface Case {
  name: string;
  dataset: Dataset;
  mapping: RowsMapping;
  /** The row as the API writes it. */
  write: (row: never) => string;
  target?: number;
}

const DAY = '2026-01-02';
const PAGE_SIZE = 50_000;
const CHUNK = 64 * 1024;

const CASES: Case[] = [
  {
    name: 'sensors, canonical rows',
    dataset: 'sensors',
    mapping: DEFAULT_ROWS,
    write: sensorJson as (row: never) => string,
    target: 2_000_000,
  },
  {
    name: 'sensors, a renamed field',
    dataset: 'sensors',
    mapping: { ...DEFAULT_ROWS, fields: { sensor_value: 'value' } },
    write: ((row: Parameters<typeof sensorJson>[0]) =>
      sensorJson(row).replace('"sensor_value":', '"value":')) as (row: never) => string,
  },
  {
    name: 'vehicles, canonical rows',
    dataset: 'vehicles',
    mapping: DEFAULT_ROWS,
    write: vehicleJson as (row: never) => string,
  },
];

/** Page bodies of about `rows` rows of the dataset from the simulated fleet, as the simulator serves them. */
function pageBodies(c: Case, rows: number): { bodies: Buffer[]; rows: number } {
  const window = windowOfDay(DAY, 'UTC');
  // Vehicles created through the day before: every one of them is in the night's vehicles and measures all day.
  const world = new FleetWorld({
    seed: 42,
    vehicles: c.dataset === 'vehicles' ? rows : Math.ceil(rows / 1000),
    readingsPerVehicle: 1000,
    fleetStart: c.dataset === 'vehicles' ? DAY : '2026-01-01',
  });
  const creation = creationWindow(window.from, window.to);
  const total = Math.min(rows, world.count(c.dataset, creation));
  const pages = Math.ceil(total / PAGE_SIZE);
  const bodies: Buffer[] = [];
  for (let page = 0; page < pages; page++) {
    const texts: string[] = [];
    const size = Math.min(PAGE_SIZE, total - page * PAGE_SIZE);
    for (const row of world.rows(c.dataset, creation, page * PAGE_SIZE, size))
      texts.push(c.write(row as never));
    const envelope = `{"page":${page + 1},"page_size":${PAGE_SIZE},"total_pages":${pages},"total_items":${total},"data":[`;
    bodies.push(Buffer.from(`${envelope}${texts.join(',')}]}`));
  }
  return { bodies, rows: total };
}

interface Pass {
  cpuSeconds: number;
  wallSeconds: number;
  ndjsonHash: string;
  stored: number;
}

function parseAll(c: Case, bodies: readonly Buffer[], path: RowCheckPath): Pass {
  const window = windowOfDay(DAY, 'UTC');
  const hash = createHash('sha256');
  let stored = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const [index, body] of bodies.entries()) {
    const parser = new PageBodyParser({
      shape: { rowsPath: ['data'], total: { path: ['total_pages'], counts: 'pages' }, pagePath: ['page'] },
      page: index + 1,
      pageSize: PAGE_SIZE,
      checkRow: rowReader(c.dataset, c.mapping, window, path),
      invalidRows: { action: 'fail', maxShare: 0 },
    });
    for (let at = 0; at < body.length; at += CHUNK) {
      const step = parser.push(body.subarray(at, at + CHUNK));
      if (!step.ok) throw new Error(`${c.name}, page ${index + 1}: ${step.failure.message}`);
      hash.update(step.ndjson);
    }
    const end = parser.end();
    if (!end.ok) throw new Error(`${c.name}, page ${index + 1}: ${end.failure.message}`);
    stored += end.rows;
  }
  const used = process.cpuUsage(cpu);
  return {
    cpuSeconds: (used.user + used.system) / 1e6,
    wallSeconds: (performance.now() - started) / 1000,
    ndjsonHash: hash.digest('hex'),
    stored,
  };
}

export const suite: BenchSuite = {
  name: 'rows',
  description: 'page parser and row checks, zod alone against the fast path: rows per CPU second',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const rows = context.smoke ? 20_000 : Number(process.env.BENCH_ROWS ?? 1_000_000);
    const turns = context.smoke ? 1 : 3;
    const out: BenchRow[] = [];
    for (const c of CASES) {
      const { bodies, rows: total } = pageBodies(c, rows);
      const passes: Record<RowCheckPath, Pass[]> = { zod: [], fast: [] };
      const load = os.loadavg()[0]?.toFixed(1) ?? '?';
      // A first pass of each warms up the JIT; then they take turns, and the least CPU of each is kept.
      parseAll(c, bodies, 'zod');
      parseAll(c, bodies, 'fast');
      for (let turn = 0; turn < turns; turn++) {
        for (const path of turn % 2 === 0 ? (['zod', 'fast'] as const) : (['fast', 'zod'] as const)) {
          passes[path].push(parseAll(c, bodies, path));
        }
      }
      const best = (path: RowCheckPath) =>
        passes[path].reduce((a, b) => (b.cpuSeconds < a.cpuSeconds ? b : a));
      const zod = best('zod');
      const fast = best('fast');
      if (zod.ndjsonHash !== fast.ndjsonHash || zod.stored !== fast.stored) {
        throw new Error(`${c.name}: the fast path stored other bytes than zod alone`);
      }
      const perCore = total / fast.cpuSeconds;
      context.log(
        `${c.name}: ${total.toLocaleString('en-US')} rows; zod ${zod.cpuSeconds.toFixed(2)} s CPU ` +
          `(${zod.wallSeconds.toFixed(2)} s wall), fast ${fast.cpuSeconds.toFixed(2)} s CPU ` +
          `(${fast.wallSeconds.toFixed(2)} s wall), same NDJSON; load ${load}→${os.loadavg()[0]?.toFixed(1)}`,
      );
      out.push({
        case: `${c.name}, ${total.toLocaleString('en-US')} rows`,
        figures: {
          'zod: CPU s': zod.cpuSeconds,
          'fast: CPU s': fast.cpuSeconds,
          'zod: rows/s/core': Math.round(total / zod.cpuSeconds),
          'fast: rows/s/core': Math.round(perCore),
          'CPU fast ÷ zod': fast.cpuSeconds / zod.cpuSeconds,
          'fast: wall s': fast.wallSeconds,
          load,
        },
        ...(c.target === undefined
          ? {}
          : {
              target: {
                description: `≥ ${(c.target / 1e6).toFixed(0)} million rows/s/core`,
                met: perCore >= c.target,
              },
            }),
      });
    }
    return out;
  },
};
