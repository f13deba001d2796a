import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { type EtlOutcome, lastJsonLine, runEtl } from '../helpers/etl-process.js';
import { sendJson, serveOnLoopback } from '../helpers/json-api.js';

/**
 * `etl run --source` against an API, in another process, that the configuration can now describe: its token
 * endpoint wants an `audience`, its pages an API key header (a secret, by name) and a tenant header; it writes
 * `created_at` in epoch milliseconds, leaves `sensor_value` out when it is null, and sends a `firmware` field no
 * column reads (which `etl run` must warn about once, not once per page).
 */

const NIGHT = '2026-11-24';
const ENV = {
  ...process.env,
  FLEET_ETL_SECRET_SHAPE_SECRET: 'shape-secret',
  FLEET_ETL_SECRET_SHAPE_KEY: 'key-123',
};
const DAY_START = Date.parse(`${NIGHT}T00:00:00.000Z`);

const VEHICLES = [
  { vehicle_id: 'a', vehicle_type: 'van', created_at: DAY_START + 1_000 },
  { vehicle_id: 'b', vehicle_type: 'bus', created_at: DAY_START + 2_000 },
];
/** Thirty readings in three pages; every third has no value, and leaves `sensor_value` out. */
const READINGS = Array.from({ length: 30 }, (_, i) => ({
  vehicle_id: i % 2 === 0 ? 'a' : 'b',
  timestamp: DAY_START + 3_600_000 + i * 10_000,
  ...(i % 3 === 0 ? {} : { sensor_value: i }),
  created_at: DAY_START + 3_600_000 + i * 10_000,
  firmware: '1.2.3',
}));

async function startShapedApi() {
  const refused: string[] = [];
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/token') {
      let form = '';
      request.on('data', (chunk: Buffer) => {
        form += chunk.toString();
      });
      request.on('end', () => {
        const audience = new URLSearchParams(form).get('audience');
        if (audience !== 'https://shapes.example/api') {
          refused.push(`token without the audience: ${form}`);
          return sendJson(response, 400, { error: 'invalid_request' });
        }
        sendJson(response, 200, { access_token: 'shape-token', token_type: 'Bearer', expires_in: 3600 });
      });
      return;
    }
    if (request.headers.authorization !== 'Bearer shape-token') return sendJson(response, 401, {});
    if (request.headers['x-api-key'] !== 'key-123' || request.headers['x-tenant'] !== 'acme') {
      refused.push(`page without the headers: ${url.pathname}`);
      return sendJson(response, 403, { error: 'forbidden' });
    }
    // Both datasets are asked by date; an undated request would be a bug of the source, answered with nothing.
    const dated = url.searchParams.has('fromCreationDate') && url.searchParams.has('toCreationDate');
    const rows: readonly unknown[] = url.pathname === '/v1/vehicles' ? VEHICLES : READINGS;
    const page = Number(url.searchParams.get('page'));
    const size = Number(url.searchParams.get('pageSize'));
    const data = dated ? rows.slice((page - 1) * size, page * size) : [];
    sendJson(response, 200, { data, page, total_pages: Math.ceil(rows.length / size) });
  };
  const server = await serveOnLoopback(handle, 120_000);
  return { ...server, refused };
}

const RunJsonSchema = z.object({
  status: z.literal('succeeded'),
  datasets: z.record(z.string(), z.object({ pages: z.number(), rows: z.number() })),
  unmappedFields: z.record(z.string(), z.number()),
});

describe('etl run against an API with an audience, API key and tenant headers, epoch created_at and left-out nulls', () => {
  let api: Awaited<ReturnType<typeof startShapedApi>>;
  let outcome: EtlOutcome;
  let stateDir: string;

  beforeAll(async () => {
    api = await startShapedApi();
    const dir = mkdtempSync(path.join(tmpdir(), 'fleet-etl-shapes-'));
    stateDir = path.join(dir, 'state');
    const config = path.join(dir, 'source.json');
    writeFileSync(
      config,
      JSON.stringify({
        baseUrl: api.url,
        auth: {
          tokenUrl: '/token',
          clientId: 'shapes',
          clientSecretName: 'shape-secret',
          tokenParams: { audience: 'https://shapes.example/api' },
        },
        headers: { 'x-api-key': { secretName: 'shape-key' }, 'x-tenant': 'acme' },
        rows: { createdAtFormat: 'epoch-millis', omittedFieldsAreNull: true },
        retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 1_000 },
        datasets: {
          vehicles: { endpoint: '/v1/vehicles', pageSize: 10 },
          sensors: { endpoint: '/v1/sensors', pageSize: 10 },
        },
      }),
    );
    outcome = await runEtl(['run', '--date', NIGHT, '--source', config, '--state-dir', stateDir, '--json'], {
      env: ENV,
      timeoutMs: 120_000,
    });
  }, 130_000);

  afterAll(() => api?.close());

  it('succeeds, sending the audience and both headers on every request', () => {
    expect({ exitCode: outcome.exitCode, refused: api.refused }).toEqual({ exitCode: 0, refused: [] });
    expect(RunJsonSchema.parse(lastJsonLine(outcome.stdout)).datasets).toEqual({
      vehicles: { pages: 1, rows: 2 },
      sensors: { pages: 3, rows: 30 },
    });
  });

  it('stores created_at as ISO 8601 and a left-out sensor_value as null', () => {
    const folder = path.join(stateDir, 'lake', 'raw', 'sensors', `run=${NIGHT}`);
    const rows = readdirSync(folder)
      .sort()
      .flatMap((file) => readFileSync(path.join(folder, file), 'utf8').trim().split('\n'))
      .map((line) => JSON.parse(line));
    expect(rows[0]).toEqual({
      vehicle_id: 'a',
      timestamp: DAY_START + 3_600_000,
      sensor_value: null,
      created_at: `${NIGHT}T01:00:00.000Z`,
    });
    expect(rows.filter((row) => row.sensor_value === null)).toHaveLength(10);
  });

  it('warns once about the field no column reads, with how many rows had it', () => {
    const warnings = outcome.stderr.split('\n').filter((line) => line.includes('fields no column reads'));
    expect(warnings).toEqual([
      '  WARNING: the API sent fields no column reads (renamed or new?): sensors.firmware (30 rows)',
    ]);
    expect(RunJsonSchema.parse(lastJsonLine(outcome.stdout)).unmappedFields).toEqual({
      'sensors.firmware': 30,
    });
  });
});
