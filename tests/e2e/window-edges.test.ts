import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { type EtlOutcome, lastJsonLine, runEtl } from '../helpers/etl-process.js';
import { answerTokenRequest, sendJson, serveOnLoopback } from '../helpers/json-api.js';

/**
 * Two adjacent nights of `etl run --source` against an API in another process (a server of this test's own, not
 * the simulator) whose date filters are coarser than its rows' millisecond `created_at`: every row the API
 * serves must land in exactly one night, the one its `created_at` falls in, and the rows the wider asked window
 * brings from the neighbouring nights must be counted and left out, not quarantined.
 *
 * Before the fix, the whole-second API was asked for `to=23:59:59` (inclusive), and every row created between
 * 23:59:59.001 and 23:59:59.999 was lost without a word.
 */

const NIGHTS = ['2026-11-24', '2026-11-25'] as const;
const RUN_TIMEOUT_MS = 120_000;
const PAGE_SIZE = 7;
const SECRET_ENV = { ...process.env, FLEET_ETL_SECRET_EDGE_SECRET: 'edge-secret' };

/** Creation instants at and around the nights' edges, one day before to one day after. */
const EDGE_INSTANTS = [
  '2026-11-23T23:59:59.999Z',
  '2026-11-24T00:00:00.000Z',
  '2026-11-24T00:00:00.001Z',
  '2026-11-24T00:00:00.999Z',
  '2026-11-24T12:00:00.000Z',
  '2026-11-24T23:59:59.000Z',
  '2026-11-24T23:59:59.001Z',
  '2026-11-24T23:59:59.500Z',
  '2026-11-24T23:59:59.999Z',
  '2026-11-25T00:00:00.000Z',
  '2026-11-25T00:00:00.001Z',
  '2026-11-25T12:34:56.789Z',
  '2026-11-25T23:59:59.999Z',
  '2026-11-26T00:00:00.000Z',
  '2026-11-26T00:00:00.500Z',
];

interface Row {
  vehicle_id: string;
  timestamp: number;
  sensor_value: number;
  created_at: string;
}

/** Three readings per instant, each of another vehicle; a reading is measured a second before it is created. */
const SENSOR_ROWS: Row[] = EDGE_INSTANTS.flatMap((createdAt, i) =>
  ['v1', 'v2', 'v3'].map((vehicle, k) => ({
    vehicle_id: vehicle,
    timestamp: Date.parse(createdAt) - 1_000 - k,
    sensor_value: i * 10 + k,
    created_at: createdAt,
  })),
);
/** v1 and v2 created in the first night's last second, v3 at the second night's first instant. */
const VEHICLE_ROWS = [
  { vehicle_id: 'v1', vehicle_type: 'van', created_at: '2026-11-24T23:59:59.001Z' },
  { vehicle_id: 'v2', vehicle_type: 'bus', created_at: '2026-11-24T23:59:59.999Z' },
  { vehicle_id: 'v3', vehicle_type: 'car', created_at: '2026-11-25T00:00:00.000Z' },
];

type FilterKind = 'whole-seconds-inclusive' | 'date-only-inclusive';

/**
 * The test's own fleet API. `whole-seconds-inclusive`: `since` and `until` must be ISO 8601 instants in whole
 * seconds (anything finer is a 400), both inclusive, compared with the rows' millisecond `created_at`.
 * `date-only-inclusive`: `since` and `until` are dates, both inclusive, compared with the UTC date of
 * `created_at`. It records every row it serves, and stops by itself after two minutes should a test forget it.
 */
async function startEdgeApi(kind: FilterKind) {
  /** Per `since` asked, the rows served: the planner reads page 1 too, so a row may be served twice a night. */
  const served = new Map<string, Set<string>>();
  const selects = (since: string, until: string): ((createdAt: string) => boolean) | undefined => {
    if (kind === 'date-only-inclusive') {
      const day = /^\d{4}-\d{2}-\d{2}$/;
      if (!day.test(since) || !day.test(until)) return undefined;
      return (createdAt) => createdAt.slice(0, 10) >= since && createdAt.slice(0, 10) <= until;
    }
    const second = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
    if (!second.test(since) || !second.test(until)) return undefined;
    const [from, to] = [Date.parse(since), Date.parse(until)];
    return (createdAt) => Date.parse(createdAt) >= from && Date.parse(createdAt) <= to;
  };
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/token') {
      answerTokenRequest(request, response, 'edge-token');
      return;
    }
    if (request.headers.authorization !== 'Bearer edge-token') return sendJson(response, 401, {});
    const q = url.searchParams;
    const keep = selects(q.get('since') ?? '', q.get('until') ?? '');
    if (keep === undefined) {
      return sendJson(response, 400, {
        error: `bad since/until for ${kind}: ${q.get('since')} ${q.get('until')}`,
      });
    }
    const rows: readonly { created_at: string }[] =
      url.pathname === '/vehicles' ? VEHICLE_ROWS : url.pathname === '/sensors' ? SENSOR_ROWS : [];
    const selected = rows.filter((row) => keep(row.created_at));
    const page = Number(q.get('page'));
    const size = Number(q.get('size'));
    const data = selected.slice((page - 1) * size, page * size);
    const since = q.get('since') ?? '';
    const ofNight = served.get(since) ?? new Set<string>();
    for (const row of data) ofNight.add(`${url.pathname.slice(1)} ${JSON.stringify(row)}`);
    served.set(since, ofNight);
    sendJson(response, 200, { data, page, total_pages: Math.max(1, Math.ceil(selected.length / size)) });
  };
  const server = await serveOnLoopback(handle, 120_000);
  return { ...server, served };
}

function writeConfig(dir: string, baseUrl: string, kind: FilterKind): string {
  const file = path.join(dir, 'source.json');
  writeFileSync(
    file,
    JSON.stringify({
      baseUrl,
      auth: { tokenUrl: '/token', clientId: 'edge', clientSecretName: 'edge-secret' },
      query: { from: 'since', to: 'until', timeZone: null, pageSize: 'size', page: 'page' },
      dateFilter:
        kind === 'date-only-inclusive'
          ? { format: 'date', precision: 'days', fromInclusive: true, toInclusive: true }
          : { format: 'iso-seconds', precision: 'seconds', fromInclusive: true, toInclusive: true },
      response: { pagePath: 'page' },
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 1_000 },
      datasets: {
        vehicles: { endpoint: '/vehicles', pageSize: PAGE_SIZE },
        sensors: { endpoint: '/sensors', pageSize: PAGE_SIZE },
      },
    }),
  );
  return file;
}

const RunJsonSchema = z.object({
  runId: z.string(),
  status: z.literal('succeeded'),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  outsideWindow: z.record(z.string(), z.number()),
});

/** The rows a night stored in the raw lake, as `dataset {row json}` lines. */
function storedRows(stateDir: string, night: string): string[] {
  const lines: string[] = [];
  for (const dataset of ['vehicles', 'sensors']) {
    const folder = path.join(stateDir, 'lake', 'raw', dataset, `run=${night}`);
    for (const file of readdirSync(folder)) {
      for (const line of readFileSync(path.join(folder, file), 'utf8').split('\n')) {
        if (line !== '') lines.push(`${dataset} ${JSON.stringify(JSON.parse(line))}`);
      }
    }
  }
  return lines;
}

function nightOf(createdAt: string): string | undefined {
  const day = createdAt.slice(0, 10);
  return (NIGHTS as readonly string[]).includes(day) ? day : undefined;
}

describe.each<FilterKind>(['whole-seconds-inclusive', 'date-only-inclusive'])(
  'two adjacent nights against an API with %s date filters and millisecond created_at',
  (kind) => {
    let api: Awaited<ReturnType<typeof startEdgeApi>>;
    let stateDir: string;
    const outcomes: EtlOutcome[] = [];

    beforeAll(async () => {
      api = await startEdgeApi(kind);
      const dir = mkdtempSync(path.join(tmpdir(), 'fleet-etl-edges-'));
      stateDir = path.join(dir, 'state');
      const config = writeConfig(dir, api.url, kind);
      for (const night of NIGHTS) {
        outcomes.push(
          await runEtl(['run', '--date', night, '--source', config, '--state-dir', stateDir, '--json'], {
            env: SECRET_ENV,
            timeoutMs: RUN_TIMEOUT_MS,
          }),
        );
      }
    }, 2 * RUN_TIMEOUT_MS);

    afterAll(() => api?.close());

    it('runs both nights to success', () => {
      for (const outcome of outcomes) {
        expect({ exitCode: outcome.exitCode, stderr: outcome.stderr }).toEqual({
          exitCode: 0,
          stderr: expect.stringContaining('succeeded'),
        });
      }
    });

    it('stores every served row of the two nights in exactly one night: its own', () => {
      const servedByRow = new Set([...api.served.values()].flatMap((rows) => [...rows]));
      const byNight = NIGHTS.map((night) => storedRows(stateDir, night));
      for (const [n, rows] of byNight.entries()) {
        expect(new Set(rows).size).toBe(rows.length);
        for (const row of rows) {
          expect(servedByRow.has(row)).toBe(true);
          expect(nightOf(JSON.parse(row.slice(row.indexOf(' ') + 1)).created_at)).toBe(NIGHTS[n]);
        }
      }
      const stored = new Set(byNight.flat());
      const servedInNights = [...servedByRow].filter((row) =>
        nightOf(JSON.parse(row.slice(row.indexOf(' ') + 1)).created_at),
      );
      expect([...stored].sort()).toEqual(servedInNights.sort());
      // Every row of the two nights was served: the whole second before midnight included.
      const expected = [
        ...VEHICLE_ROWS.map((row) => `vehicles ${JSON.stringify(row)}`),
        ...SENSOR_ROWS.map((row) => `sensors ${JSON.stringify(row)}`),
      ].filter((row) => nightOf(JSON.parse(row.slice(row.indexOf(' ') + 1)).created_at));
      expect([...stored].sort()).toEqual(expected.sort());
    });

    it('counts the rows of neighbouring nights it left out, and quarantines none', () => {
      const asked = [...api.served.values()];
      expect(asked).toHaveLength(NIGHTS.length);
      for (const [n, outcome] of outcomes.entries()) {
        const json = RunJsonSchema.parse(lastJsonLine(outcome.stdout));
        const night = NIGHTS[n] ?? '';
        const kept = storedRows(stateDir, night);
        const leftOut = (json.outsideWindow.sensors ?? 0) + (json.outsideWindow.vehicles ?? 0);
        // Each night was asked for a window covering it; every row served for it is kept or counted.
        expect(kept.length + leftOut).toBe(asked[n]?.size);
        expect(json.datasets.sensors?.rows).toBe(kept.filter((row) => row.startsWith('sensors ')).length);
        expect(outcome.stdout + outcome.stderr).not.toMatch(/rejected|quarantin/i);
      }
      // An inclusive whole-second `to` asks for the next night's first second too, which the next night keeps.
      const leftOut = outcomes.map(
        (outcome) => RunJsonSchema.parse(lastJsonLine(outcome.stdout)).outsideWindow.sensors ?? 0,
      );
      expect(leftOut).toEqual(kind === 'whole-seconds-inclusive' ? [3, 3] : [0, 0]);
    });
  },
);
