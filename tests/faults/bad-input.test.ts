import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ClaimCheckPublisher,
  DetailType,
  EVENT_SOURCE,
  type EventPublisher,
  type OutgoingEvent,
  resolveFleetEvent,
  toOutgoingEvent,
} from '../../events/index.js';
import { BUNDLED_QUERIES } from '../../local/run-pipeline.js';
import { LocalRuntime, stateLayout } from '../../local/runtime.js';
import type { LocalPorts } from '../../local/wiring.js';
import { FolderSqlSource } from '../../services/adapters/local/folder-sql-source.js';
import { SqliteQueue } from '../../services/adapters/local/sqlite/sqlite-queue.js';
import { openStateDatabase } from '../../services/adapters/local/sqlite/state-database.js';
import { systemClock } from '../../services/ports/clock.js';
import type { FleetSource } from '../../services/ports/fleet-source.js';
import type { QueryEngine } from '../../services/ports/query-engine.js';
import { renderPlaceholders, SqlPlaceholderValuesSchema } from '../../services/shared/sql-text.js';
import { loadSourceConfig } from '../../services/source-config/index.js';
import { DATASETS, topology } from '../../services/topology.js';
import { envelope, MemoryObjectStore, RecordingPublisher } from '../helpers/fakes.js';
import { CLIENT_SECRET, DAY, type FaultRun, faultRun, freshStateDir } from './harness.js';
import { checkInvariants, filesUnder } from './invariants.js';
import type { Scenario } from './scenario.js';
import { faultGroup } from './suite.js';

const WINDOW = { from: `${DAY}T00:00:00.000Z`, to: '2026-11-25T00:00:00.000Z', timeZone: 'UTC' };

/** Tasks no planner would send: each tries to move the downloader's write out of the run's prefix. */
const HOSTILE_TASKS = [
  { runId: '../../escaped', dataset: 'sensors', window: WINDOW, page: 1, pageSize: 100, totalPages: 1 },
  { runId: DAY, dataset: '../escaped', window: WINDOW, page: 1, pageSize: 100, totalPages: 1 },
  { runId: DAY, dataset: 'sensors', window: WINDOW, page: -1, pageSize: 100, totalPages: 1 },
];
/** A task with a valid run, dataset and page, and a destination of its own: the key must not come from it. */
const TASK_WITH_A_KEY = { key: '../../escaped/page.ndjson', destination: '/tmp/escaped' };

/** Rows a page should never carry: one far over any field's limit, one with prototype keys, one SQL-shaped. */
const HUGE_ROW = {
  vehicle_id: 'V'.repeat(1_000_000),
  timestamp: 1,
  sensor_value: 1,
  created_at: `${DAY}T01:00:00.000Z`,
};
const SQLISH_ROW = {
  vehicle_id: "x'); DROP TABLE sensor_data; --",
  timestamp: Date.parse(`${DAY}T02:00:00.000Z`),
  sensor_value: 1,
  created_at: `${DAY}T02:00:00.500Z`,
};

function injectRow(body: string, row: unknown, raw = false): string {
  const page = JSON.parse(body) as Record<string, unknown>;
  const rowsKey = Object.keys(page).find((k) => Array.isArray(page[k])) ?? 'data';
  const rows = page[rowsKey] as unknown[];
  const text = JSON.stringify({ ...page, [rowsKey]: ['__ROW__', ...rows.slice(1)] });
  return text.replace('"__ROW__"', raw ? String(row) : JSON.stringify(row));
}

const scenarios: Scenario[] = [
  {
    name: 'task messages escaping the run prefix',
    injected: '3 tasks with a hostile run, dataset or page, and every task carrying its own destination key',
    expect: {
      kind: 'failure',
      failure: /invalid download task|received 5 times/,
      deadLetters: HOSTILE_TASKS.length,
    },
    run: () => {
      // The tasks queue's own send refuses hostile tasks (tasksToSend, tests/contracts/task-queue.contract.ts), so
      // they reach the queue as an outsider's messages would, sent straight to it: in the state store before the
      // night starts, which takes them as tasks still queued.
      const stateDir = freshStateDir();
      const db = openStateDatabase(stateLayout(stateDir).state);
      new SqliteQueue(db, {
        name: 'tasks',
        visibilityTimeoutMs: 500,
        maxReceiveCount: topology.queues.tasks.maxReceiveCount,
      }).send(HOSTILE_TASKS.map((task) => JSON.stringify(task)));
      db.close();
      return faultRun({
        stateDir,
        decoratePorts: (ports: LocalPorts): LocalPorts => ({
          ...ports,
          queue: {
            // Every planned task carries a destination key of its own: the queue must not pass it on.
            send: (tasks) => ports.queue.send(tasks.map((t) => ({ ...t, ...TASK_WITH_A_KEY }))),
          },
        }),
      });
    },
    faults: () => HOSTILE_TASKS.length + 1,
    extraChecks: (run) => {
      const escaped = [run.stateDir, path.dirname(run.stateDir), '/tmp']
        .flatMap((dir) => (existsSync(dir) ? readdirSync(dir) : []))
        .filter((name) => name.includes('escaped'));
      const inState = filesUnder(run.stateDir).filter((f) => f.includes('escaped'));
      return [...escaped, ...inState].map((f) => `written outside the run's prefix: ${f}`);
    },
  },
  {
    name: 'hostile SQL placeholder values',
    injected: 'the database placeholder set to fleet_etl; DROP TABLE x --',
    expect: {
      kind: 'failure',
      failure: /^query-runner: 10_raw_tables\.sql: refusing to fill the SQL placeholders: .*database/s,
    },
    run: () => faultRun({ database: 'fleet_etl; DROP TABLE x --' }),
    faults: () => 1,
  },
  {
    name: 'hostile and huge rows in a page',
    injected: 'a 1 MB row (page 2), a row with __proto__ keys (page 3), an SQL-shaped vehicle id (page 4)',
    // The night changed by what was injected: the answer is the independent one over the changed rows.
    expect: { kind: 'answer', against: 'world' },
    run: async () => {
      const run = await faultRun({
        rewritePage: (dataset, page, body) => {
          if (dataset !== 'sensors') return body;
          if (page === 2) return injectRow(body, HUGE_ROW);
          if (page === 3)
            return injectRow(
              body,
              `{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"vehicle_id":"V000001","timestamp":${Date.parse(`${DAY}T03:00:00.000Z`)},"sensor_value":2,"created_at":"${DAY}T03:00:00.500Z"}`,
              true,
            );
          if (page === 4) return injectRow(body, SQLISH_ROW);
          return body;
        },
      });
      adjustWorld(run);
      return run;
    },
    faults: () => 3,
    extraChecks: (run) => {
      const problems: string[] = [];
      if (({} as Record<string, unknown>).polluted !== undefined)
        problems.push('Object.prototype was polluted');
      const rejected = filesUnder(run.summary.lake.raw).filter((f) => f.startsWith('rejected/'));
      const text = rejected.map((f) => readFileSync(path.join(run.summary.lake.raw, f), 'utf8')).join('');
      if (!/vehicle_id/.test(text))
        problems.push(`the huge row is not quarantined with its reason: ${rejected.join()}`);
      if (text.length > 16_384) problems.push(`the quarantine holds ${text.length} bytes for one row`);
      return problems;
    },
  },
];

/** The hostile-rows run's night: the simulator's rows, less the three each injected row replaced, plus the valid ones. */
function adjustWorld(run: FaultRun): void {
  const pageStart = (page: number) => (page - 1) * 100;
  const replaced = new Set([pageStart(2), pageStart(3), pageStart(4)]);
  const sensors = run.world.sensors.filter((_, i) => !replaced.has(i));
  sensors.push(
    { vehicle_id: 'V000001', timestamp: Date.parse(`${DAY}T03:00:00.000Z`), sensor_value: 2, created_at: '' },
    { ...SQLISH_ROW },
  );
  run.world.sensors.splice(0, run.world.sensors.length, ...sensors);
}

describe('fault injection: bad input', () => {
  const { recorder, calm: calmRun, baseline: fetchBaseline } = faultGroup('bad-input', scenarios);

  it('events that break their schema are refused by every consumer, and change nothing', async () => {
    const result = await recorder.runProbe({
      name: 'events breaking their schema',
      injected:
        'one invalid event of every detail-type (hostile key, wrong types, unknown run) sent to every consumer',
      run: async () => {
        const calm = calmRun();
        const baseline = fetchBaseline();
        const lake = filesUnder(calm.summary.lake.raw).join();
        const hostile = Object.values(DetailType).map((detailType) => ({
          source: EVENT_SOURCE,
          detailType,
          // Published raw, as a buggy or hostile producer could: the publish helper would have refused it.
          detail: JSON.stringify({
            schemaVersion: 1,
            runId: '../../etc',
            key: '../../../escaped',
            page: 'one',
            dataset: 'x',
          }),
        }));
        const runtime = new LocalRuntime({
          stateDir: calm.stateDir,
          queues: 'paused',
          deliveryRetryDelayMs: 1,
          ports: {
            source: { windowFor: () => calm.window } as unknown as FleetSource,
            engine: {} as QueryEngine,
            sqlSource: new FolderSqlSource(BUNDLED_QUERIES),
            clock: systemClock,
            datasets: DATASETS,
            database: 'fleet_etl',
            pageSize: 100,
          },
        });
        try {
          await runtime.bus.publish(hostile);
          await runtime.settled();
        } finally {
          await runtime.close();
        }
        const outcome = { deadLetters: runtime.deadLetters };
        const violations: string[] = [];
        const refused = outcome.deadLetters.filter((l) =>
          /invalid \w+ detail|not an EventBridge/.test(l.reason),
        );
        // Each rule-triggered service subscribes to some of the detail-types: every delivery must be refused.
        if (refused.length < hostile.length) violations.push(`only ${refused.length} refusals`);
        if (refused.length < outcome.deadLetters.length) violations.push('a dead letter for another reason');
        if (filesUnder(calm.summary.lake.raw).join() !== lake) violations.push('the lake changed');
        const report = await checkInvariants(calm, { kind: 'answer' }, baseline);
        violations.push(...report.violations);
        return {
          faults: hostile.length,
          checked: `${refused.length} refused by the consumers' validation, ${report.checked.join(', ')}`,
          violations,
        };
      },
    });
    expect(result.violations).toEqual([]);
  }, 60_000);

  it('hostile SQL placeholder values are refused before any SQL is built', async () => {
    const hostile = [
      "x'; DROP TABLE sensor_data; --",
      'a\nb',
      '../../etc',
      'fleet_etl/*',
      "2026-11-24' OR '1'='1",
    ];
    const result = await recorder.runProbe({
      name: 'SQL placeholders with hostile values',
      injected: `${hostile.length} hostile values for each of the 5 placeholders`,
      run: async () => {
        const violations: string[] = [];
        const valid = {
          database: 'fleet_etl',
          raw_location: 'file:///lake/raw',
          warehouse_location: 'file:///lake/warehouse',
          run_id: DAY,
          run_date: DAY,
        };
        let refused = 0;
        for (const name of Object.keys(valid)) {
          for (const value of hostile) {
            const values = { ...valid, [name]: value };
            const schema = SqlPlaceholderValuesSchema.safeParse(values);
            let rendered = true;
            try {
              renderPlaceholders(`SELECT '\${${name}}'`, values);
            } catch {
              rendered = false;
            }
            if (!schema.success) refused += 1;
            else
              violations.push(
                `${name}=${JSON.stringify(value)} passes the schema${rendered ? ' and renders' : ''}`,
              );
          }
        }
        return {
          faults: refused + violations.length,
          checked: `${refused} refused by the placeholder schema`,
          violations,
        };
      },
    });
    expect(result.violations).toEqual([]);
  });

  it('an event over 256 KB never reaches the bus whole: sent by reference, or refused before sending', async () => {
    const result = await recorder.runProbe({
      name: 'oversized events',
      injected: 'a SqlFileExecuted carrying 8,000 query execution ids (~640 KB)',
      run: () => oversizedEventProbe(),
    });
    expect(result.violations).toEqual([]);
  });

  it('a malformed configuration file is refused with the file and the field named, no secret quoted', async () => {
    const result = await recorder.runProbe({
      name: 'malformed configuration files',
      injected: 'a truncated JSON file, a secret pasted into the file, a wrong type, an unknown field',
      run: async () => {
        const dir = freshStateDir('config');
        const files = {
          'truncated.json': '{"baseUrl": "http://127.0.0.1:1", "auth": {',
          'secret-inline.json': JSON.stringify({
            baseUrl: 'http://127.0.0.1:1',
            auth: { tokenUrl: '/oauth/token', clientId: 'x', clientSecret: CLIENT_SECRET },
            datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
          }),
          'wrong-type.json': JSON.stringify({
            baseUrl: 'http://127.0.0.1:1',
            auth: { tokenUrl: '/oauth/token', clientId: 'x', clientSecretName: 'n' },
            rateBudget: { maxConcurrentRequests: 'many' },
            datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
          }),
          'unknown-field.json': JSON.stringify({
            baseUrl: 'http://127.0.0.1:1',
            auth: { tokenUrl: '/oauth/token', clientId: 'x', clientSecretName: 'n' },
            datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
            retyr: { maxAttempts: 1 },
          }),
        };
        const violations: string[] = [];
        for (const [name, text] of Object.entries(files)) {
          const file = path.join(dir, name);
          writeFileSync(file, text);
          try {
            await loadSourceConfig(file);
            violations.push(`${name} was accepted`);
          } catch (error) {
            const message = String((error as Error).message);
            if ((error as Error).name !== 'SourceConfigError')
              violations.push(`${name}: ${(error as Error).name}`);
            if (!message.includes(name)) violations.push(`${name}: the message does not name the file`);
            if (message.includes(CLIENT_SECRET)) violations.push(`${name}: the message quotes the secret`);
          }
        }
        rmSync(dir, { recursive: true, force: true });
        return {
          faults: Object.keys(files).length,
          checked: 'refused, file named, no secret quoted',
          violations,
        };
      },
    });
    expect(result.violations).toEqual([]);
  });
});

/**
 * An oversized SqlFileExecuted (its lists grow with the SQL folder). With the claim check in events/ (decision 60)
 * it must go by reference: stored whole, published as a reference under 256 KB, resolved to the same detail by the
 * consumers' validation, and a reference that names another key refused.
 */
async function oversizedEventProbe(): Promise<{ faults: number; checked: string; violations: string[] }> {
  const ids = Array.from(
    { length: 8_000 },
    (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
  );
  const detail = {
    runId: DAY,
    window: WINDOW,
    file: '10_raw_tables.sql',
    index: 0,
    total: 1,
    statements: ids.length,
    queryExecutionIds: ids,
    dataScannedBytes: 0,
    durationMs: 1,
    runSoFar: { results: {}, queryExecutionIds: ids, dataScannedBytes: 0, durationMs: 1 },
  };
  const violations: string[] = [];
  const store = new MemoryObjectStore();
  const bus = new RecordingPublisher();
  const sent: OutgoingEvent[] = [];
  const inner: EventPublisher = {
    publish: async (entries) => {
      sent.push(...entries);
      await bus.publish(entries);
    },
  };
  await new ClaimCheckPublisher(inner, store).publish([toOutgoingEvent(DetailType.SqlFileExecuted, detail)]);
  const [entry] = sent;
  if (entry === undefined || Buffer.byteLength(entry.detail) > 256 * 1024) violations.push('sent whole');
  const reference = JSON.parse(entry?.detail ?? '{}') as { detailRef?: { key: string } };
  if (reference.detailRef === undefined) violations.push('no detailRef in the published detail');
  const resolved = await resolveFleetEvent(
    envelope(DetailType.SqlFileExecuted, reference),
    [DetailType.SqlFileExecuted],
    store,
  );
  if (resolved.detail.queryExecutionIds.length !== ids.length) violations.push('resolved to another detail');
  const hostile = { ...reference, detailRef: { ...reference.detailRef, key: '../../results/other.json' } };
  const refused = await resolveFleetEvent(
    envelope(DetailType.SqlFileExecuted, hostile),
    [DetailType.SqlFileExecuted],
    store,
  ).then(
    () => false,
    (error: unknown) => (error as Error).name === 'EventValidationError',
  );
  if (!refused) violations.push('a reference naming another key was followed');
  return {
    faults: 2,
    checked: `sent by reference (${entry === undefined ? 0 : Buffer.byteLength(entry.detail)} bytes), resolved whole, a hostile reference refused`,
    violations,
  };
}
