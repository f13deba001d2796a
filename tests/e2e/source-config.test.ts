import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as z from 'zod';
import type { SensorRow, VehicleRow } from '../../services/shared/rows.js';
import { windowOfDay } from '../../services/source-config/index.js';
import { creationWindow, FleetWorld } from '../../simulator/index.js';
import { expectedAnswer } from '../helpers/expected-answer.js';

const run = promisify(execFile);
const ETL = path.resolve('bin/etl.js');
const RUN_TIMEOUT_MS = 240_000;
const FLEET = { seed: 3, vehicles: 30, readingsPerVehicle: 200, fleetStart: '2026-05-01' };
const CLIENT = { id: 'acme-etl', secret: 'acme secret/with:symbols' };
const world = new FleetWorld(FLEET);

/**
 * "Acme telemetry", an API that looks nothing like the seed's: credentials in the form body, other parameter
 * names, an inclusive `end`, rows under result.items, a total item count instead of total_pages, other field
 * names, timestamps in epoch seconds and creation times with an offset. Its rows are the simulated world's.
 */
function startAcme(): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname + url.search);
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/auth/token') {
      let form = '';
      request.on('data', (chunk: Buffer) => {
        form += chunk.toString();
      });
      request.on('end', () => {
        const fields = new URLSearchParams(form);
        const ok = fields.get('client_id') === CLIENT.id && fields.get('client_secret') === CLIENT.secret;
        send(ok ? 200 : 401, ok ? { access_token: 'acme-token', token_type: 'bearer', expires_in: 600 } : {});
      });
      return;
    }
    if (request.headers.authorization !== 'Bearer acme-token') return send(401, { error: 'invalid_token' });
    const q = url.searchParams;
    // `end` is inclusive, to the millisecond.
    const window = creationWindow(q.get('start') ?? '', Date.parse(q.get('end') ?? '') + 1);
    const limit = Number(q.get('limit'));
    const offset = (Number(q.get('p')) - 1) * limit;
    if (url.pathname === '/api/v2/assets') {
      const items = [...world.rows('vehicles', window, offset, limit)].map((v) => ({
        id: v.vehicle_id,
        kind: v.vehicle_type,
        created: new Date(Date.parse(v.created_at) + 7_200_000).toISOString().replace('Z', '+02:00'),
      }));
      return send(200, { meta: { totalItems: world.count('vehicles', window) }, result: { items } });
    }
    if (url.pathname === '/api/v2/readings') {
      const items = [...world.rows('sensors', window, offset, limit)].map((r) => ({
        vehicle: { id: r.vehicle_id },
        measuredAt: r.timestamp / 1000,
        value: r.sensor_value,
        created_at: r.created_at,
      }));
      return send(200, { result: { items }, meta: { totalItems: world.count('sensors', window) } });
    }
    send(404, { error: 'not_found' });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({ url: `http://127.0.0.1:${port}`, server, requests });
    }),
  );
}

const acmeConfig = (baseUrl: string) => ({
  baseUrl,
  auth: {
    tokenUrl: '/auth/token',
    clientId: CLIENT.id,
    clientSecretName: 'acme/client-secret',
    credentialsIn: 'form-body',
  },
  query: { from: 'start', to: 'end', timeZone: null, pageSize: 'limit', page: 'p' },
  dateFilter: { toInclusive: true },
  response: {
    rowsPath: 'result.items',
    totalPagesPath: null,
    totalItemsPath: 'meta.totalItems',
    pagePath: null,
  },
  rateBudget: { maxConcurrentRequests: 2, requestsPerSecond: 50 },
  datasets: {
    vehicles: {
      endpoint: '/api/v2/assets',
      rows: { fields: { vehicle_id: 'id', vehicle_type: 'kind', created_at: 'created' } },
    },
    sensors: {
      endpoint: '/api/v2/readings',
      pageSize: 1_000,
      rows: {
        fields: { vehicle_id: 'vehicle.id', timestamp: 'measuredAt', sensor_value: 'value' },
        timestampFormat: 'epoch-seconds',
      },
    },
  },
});

const NightSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  lake: z.object({ raw: z.string() }),
  results: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  failures: z.array(z.string()),
});

function worldRows(days: string[]): { vehicles: VehicleRow[]; readings: SensorRow[] } {
  const vehicles: VehicleRow[] = [];
  const readings: SensorRow[] = [];
  for (const day of days) {
    const w = windowOfDay(day, 'UTC');
    vehicles.push(...world.rows('vehicles', creationWindow(w.from, w.to)));
    readings.push(...world.rows('sensors', creationWindow(w.from, w.to)));
  }
  return { vehicles, readings };
}

describe('etl run --source FILE against an API of another shape, backfilling two nights', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'etl-acme-'));
  const configFile = path.join(stateDir, 'acme.config.json');
  let acme: Awaited<ReturnType<typeof startAcme>>;
  let nights: z.infer<typeof NightSchema>[];
  let stderr: string;

  beforeAll(async () => {
    acme = await startAcme();
    writeFileSync(configFile, JSON.stringify(acmeConfig(acme.url), null, 2));
    const result = await run(
      process.execPath,
      [
        ETL,
        'run',
        '--source',
        configFile,
        '--from',
        '2026-05-01',
        '--to',
        '2026-05-02',
        '--state-dir',
        stateDir,
        '--json',
      ],
      {
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, FLEET_ETL_SECRET_ACME_CLIENT_SECRET: CLIENT.secret },
      },
    );
    stderr = result.stderr;
    nights = result.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => NightSchema.parse(JSON.parse(line)));
  }, RUN_TIMEOUT_MS);

  afterAll(async () => {
    await new Promise((resolve) => acme.server.close(resolve));
  });

  it('runs each night as its own run, with the secret from the environment', () => {
    expect(nights.map((n) => [n.runId, n.status, n.failures])).toEqual([
      ['2026-05-01', 'succeeded', []],
      ['2026-05-02', 'succeeded', []],
    ]);
    expect(stderr).toMatch(/night 2\/2: 2026-05-02/);
    expect(acme.requests.filter((r) => r.startsWith('/auth/token'))).toHaveLength(1);
  });

  it('asks with the API’s parameter names and an inclusive end one millisecond before the next night', () => {
    expect(acme.requests).toContain(
      '/api/v2/readings?start=2026-05-02T00%3A00%3A00.000Z&end=2026-05-02T23%3A59%3A59.999Z&limit=1000&p=1',
    );
  });

  it('stores every row of each night once, mapped to the canonical columns', () => {
    for (const night of nights) {
      const { vehicles, readings } = worldRows([night.runId]);
      expect(night.datasets).toEqual({
        vehicles: { pages: Math.ceil(vehicles.length / 50_000), rows: vehicles.length },
        sensors: { pages: Math.ceil(readings.length / 1000), rows: readings.length },
      });
      const firstPage = readFileSync(
        path.join(night.lake.raw, 'sensors', `run=${night.runId}`, 'page-00001.ndjson'),
        'utf8',
      )
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(firstPage).toEqual(readings.slice(0, 1000));
    }
  });

  it('answers what an independent computation over the same rows answers', () => {
    const last = nights.at(-1);
    const { vehicles, readings } = worldRows(['2026-05-01', '2026-05-02']);
    const expected = expectedAnswer(vehicles, readings);
    const actual = last?.results.avg_seconds_between_measurements ?? [];
    expect(actual.map((r) => [r.vehicle_type, r.vehicles])).toEqual(
      expected.map((r) => [r.vehicle_type, r.vehicles]),
    );
    expected.forEach((row, i) => {
      expect(actual[i]?.avg_seconds_between_measurements).toBeCloseTo(
        row.avg_seconds_between_measurements,
        9,
      );
    });
  });

  it(
    'refuses a configuration with a secret in it, naming the field, with exit code 2',
    async () => {
      const bad = path.join(stateDir, 'bad.config.json');
      writeFileSync(
        bad,
        JSON.stringify({
          ...acmeConfig(acme.url),
          auth: { ...acmeConfig(acme.url).auth, clientSecret: 'oops' },
        }),
      );
      const failure = await run(process.execPath, [
        ETL,
        'run',
        '--source',
        bad,
        '--state-dir',
        stateDir,
      ]).catch((error: unknown) => z.object({ code: z.number(), stderr: z.string() }).parse(error));
      expect(failure).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/auth\.clientSecret: secrets must not be in the configuration file/),
      });
      expect(JSON.stringify(failure)).not.toContain('oops');
    },
    RUN_TIMEOUT_MS,
  );
});
