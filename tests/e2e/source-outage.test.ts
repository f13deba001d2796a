import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import {
  type EtlOutcome,
  lastJsonLine,
  runEtl,
  type SimulatorProcess,
  startSimulatorProcess,
} from '../helpers/etl-process.js';
import { answerTokenRequest, sendJson, serveOnLoopback } from '../helpers/json-api.js';

/**
 * `etl run --source` against an API in another process whose page keeps failing: the run must end with exit 1,
 * the page and the reason on stderr, the summary, and the --json line. Before the fix it ended with exit 13 and
 * nothing at all, because nothing kept the process alive while the failed task waited to be received again.
 */

const DAY = '2026-11-24';
/** The secret the config names (`stub-secret`), as the environment gives it; the simulator's is local-secret. */
const secretEnv = (secret: string) => ({ ...process.env, FLEET_ETL_SECRET_STUB_SECRET: secret });
const RUN_TIMEOUT_MS = 90_000;

const RunJsonSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  failures: z.array(z.string()),
});

/** A source configuration in the seed API's shape, with short retries so a failing page gives up in seconds. */
function writeSourceConfig(dir: string, baseUrl: string, sensorsPageSize: number): string {
  const file = path.join(dir, 'source.json');
  writeFileSync(
    file,
    JSON.stringify({
      baseUrl,
      auth: { tokenUrl: '/oauth/token', clientId: 'fleet-etl-local', clientSecretName: 'stub-secret' },
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxElapsedMs: 1_000 },
      requestTimeoutMs: 5_000,
      datasets: {
        vehicles: { endpoint: '/v1/vehicles', pageSize: 100 },
        sensors: { endpoint: '/v1/sensors', pageSize: sensorsPageSize },
      },
    }),
  );
  return file;
}

function etlRunAgainst(dir: string, configFile: string, secret = 'stub-secret'): Promise<EtlOutcome> {
  return runEtl(
    ['run', '--date', DAY, '--source', configFile, '--state-dir', path.join(dir, 'state'), '--json'],
    { env: secretEnv(secret), timeoutMs: RUN_TIMEOUT_MS },
  );
}

/** What every failed run must show, whatever failed. */
function expectAClearFailure(outcome: EtlOutcome, reason: RegExp): z.infer<typeof RunJsonSchema> {
  expect(outcome.timedOut).toBe(false);
  expect({ exitCode: outcome.exitCode, stderr: outcome.stderr }).toEqual({
    exitCode: 1,
    stderr: expect.stringMatching(reason),
  });
  expect(outcome.stderr).toContain(`run ${DAY} FAILED after`);
  const json = RunJsonSchema.parse(lastJsonLine(outcome.stdout));
  expect(json.runId).toBe(DAY);
  expect(json.status).toBe('failed');
  expect(json.failures.some((failure) => reason.test(failure))).toBe(true);
  return json;
}

type PageFault = { kind: 'status'; status: number } | { kind: 'invalid-rows' };

/**
 * A small fleet API that is not the simulator: three vehicles, three pages of ten readings, and sensors page 2
 * failing as asked on every request. It stops by itself after a minute should a test forget it.
 */
async function startFailingApi(fault: PageFault): Promise<{ url: string; close: () => Promise<void> }> {
  const created = `${DAY}T10:00:00.000Z`;
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/oauth/token') {
      answerTokenRequest(request, response, 'stub-token');
      return;
    }
    if (request.headers.authorization !== 'Bearer stub-token') return sendJson(response, 401, {});
    const page = Number(url.searchParams.get('page'));
    if (url.pathname === '/v1/vehicles') {
      const data = ['v1', 'v2', 'v3'].map((id) => ({
        vehicle_id: id,
        vehicle_type: 'van',
        created_at: created,
      }));
      return sendJson(response, 200, { data, page, total_pages: 1 });
    }
    if (url.pathname !== '/v1/sensors') return sendJson(response, 404, { error: 'not_found' });
    if (page === 2 && fault.kind === 'status') {
      return sendJson(response, fault.status, { error: `page 2 answers ${fault.status} on purpose` });
    }
    const data = Array.from({ length: 10 }, (_, i) => ({
      vehicle_id: `v${(i % 3) + 1}`,
      timestamp: Date.parse(created) + page * 60_000 + i * 1_000,
      sensor_value: page === 2 && fault.kind === 'invalid-rows' ? 'not a number' : i / 10,
      created_at: created,
    }));
    sendJson(response, 200, { data, page, total_pages: 3 });
  };
  const server = await serveOnLoopback(handle, 60_000);
  return server;
}

describe('etl run --source against an API in another process whose page keeps failing', () => {
  describe('etl sim --fail-page sensors:2 (a 400 on every request)', () => {
    let simulator: SimulatorProcess;
    let outcome: EtlOutcome;
    let again: EtlOutcome;
    let refused: EtlOutcome;

    beforeAll(
      async () => {
        simulator = await startSimulatorProcess([
          '--vehicles',
          '20',
          '--readings',
          '200',
          '--fleet-start',
          '2026-11-20',
          '--fail-page',
          'sensors:2',
        ]);
        const dir = mkdtempSync(path.join(tmpdir(), 'etl-outage-sim-'));
        const config = writeSourceConfig(dir, simulator.url, 1_500);
        outcome = await etlRunAgainst(dir, config, 'local-secret');
        // The page's task is in the dead-letter queue now; running the night again resumes it and fails again.
        again = await etlRunAgainst(dir, config, 'local-secret');
        const other = mkdtempSync(path.join(tmpdir(), 'etl-outage-sim-'));
        refused = await etlRunAgainst(
          other,
          writeSourceConfig(other, simulator.url, 1_500),
          'a wrong secret',
        );
      },
      3 * RUN_TIMEOUT_MS + 30_000,
    );

    afterAll(async () => {
      await simulator.stop();
    });

    it('exits 1 naming the page, the status and the simulator’s message, with the summary and the JSON line', () => {
      const json = expectAClearFailure(outcome, /sensors page 2: .*HTTP 400.*always fails/);
      expect(json.failures).toContain('downloader: dead letter: received 5 times without success');
      expect(outcome.stderr).toMatch(/stored sensors page 1: /);
    });

    it('ends the same way when the night is run again after its task was dead-lettered', () => {
      expect(again.stderr).toMatch(/resuming run 2026-11-24: 2 page\(s\) already stored/);
      expectAClearFailure(again, /sensors page 2: .*HTTP 400.*always fails/);
    });

    it('exits 1 naming the refused token request when the client secret is wrong', () => {
      expectAClearFailure(refused, /planner: page 1 of sensors: .*token request failed: HTTP 401/);
    });
  });

  describe.each<[string, PageFault, RegExp]>([
    ['a 503 forever', { kind: 'status', status: 503 }, /sensors page 2: .*503/],
    ['a 403', { kind: 'status', status: 403 }, /sensors page 2: .*403/],
    [
      'rows that all break the row schema',
      { kind: 'invalid-rows' },
      /sensors page 2: .*rows break the row schema/,
    ],
  ])('a small API answering sensors page 2 with %s', (_name, fault, reason) => {
    let api: Awaited<ReturnType<typeof startFailingApi>>;
    let outcome: EtlOutcome;

    beforeAll(async () => {
      api = await startFailingApi(fault);
      const dir = mkdtempSync(path.join(tmpdir(), 'etl-outage-stub-'));
      outcome = await etlRunAgainst(dir, writeSourceConfig(dir, api.url, 10));
    }, RUN_TIMEOUT_MS + 10_000);

    afterAll(async () => {
      await api.close();
    });

    it('exits 1 with the page and the reason on stderr, the summary and the JSON line', () => {
      expectAClearFailure(outcome, reason);
      expect(outcome.stderr).toMatch(/stored sensors page 3: 10 rows/);
    });
  });
});
