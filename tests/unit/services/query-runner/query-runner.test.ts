// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} is the SQL placeholder syntax under test, not a template.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DetailType, parseFleetEvent } from '../../../../events/index.js';
import { FixedSqlSource } from '../../../../services/adapters/local/fixed-sql-source.js';
import { contentSha256, FolderSqlSource } from '../../../../services/adapters/local/folder-sql-source.js';
import type {
  QueryEngine,
  StatementContext,
  StatementResult,
} from '../../../../services/ports/query-engine.js';
import type { SqlFile } from '../../../../services/ports/sql-source.js';
import { type QueryRunnerEvent, runNextFile } from '../../../../services/query-runner/run-next-file.js';
import { TerminalError, TransientError } from '../../../../services/shared/errors.js';
import { envelope, MemoryObjectStore, RecordingPublisher, recordingLogger } from '../../../helpers/fakes.js';
import { runId, validDetails, window } from '../../../helpers/samples.js';

const files: SqlFile[] = [
  { name: '20_second.sql', text: "INSERT INTO ${database}.t SELECT * FROM raw WHERE run = '${run_id}';" },
  { name: '10_first.sql', text: 'CREATE TABLE a (x int);\nCREATE TABLE b (y int);' },
  { name: '30_answer.sql', text: 'SELECT 1 AS one -- on ${run_date}\n;' },
];
/** The version a source of these files pins: the content hash of the files in lexical order, as a folder's. */
const filesSha256 = contentSha256([...files].sort((a, b) => a.name.localeCompare(b.name)));

/** Records each statement it is given; statements starting with SELECT return one row. */
class RecordingEngine implements QueryEngine {
  readonly statements: { sql: string; context: StatementContext }[] = [];
  failWith: Error | undefined;

  async execute(sql: string, context: StatementContext): Promise<StatementResult> {
    if (this.failWith) throw this.failWith;
    this.statements.push({ sql, context });
    const id = `q-${this.statements.length}`;
    const base = { queryExecutionId: id, dataScannedBytes: 100, durationMs: 2 };
    return sql.startsWith('SELECT') ? { ...base, result: { columns: ['one'], rows: [{ one: 1 }] } } : base;
  }
}

function deps() {
  return {
    sqlSource: new FixedSqlSource(files),
    engine: new RecordingEngine(),
    publisher: new RecordingPublisher(),
    resultsStore: new MemoryObjectStore(),
    database: 'fleet_etl',
    rawLocation: 's3://raw-bucket',
    warehouseLocation: 's3://warehouse-bucket',
    logger: recordingLogger(),
  };
}

const drained = (): QueryRunnerEvent =>
  parseFleetEvent(envelope('DownloadsDrained', validDetails.DownloadsDrained), [DetailType.DownloadsDrained]);

const executed = (detail: Record<string, unknown>): QueryRunnerEvent =>
  parseFleetEvent(envelope('SqlFileExecuted', detail), [DetailType.SqlFileExecuted]);

describe('runNextFile', () => {
  it('runs the first file in lexical order on DownloadsDrained, statement by statement', async () => {
    // Prepare
    const d = deps();
    const event = drained();

    // Act
    const outcome = await runNextFile(event, d);

    // Assess
    expect(outcome).toEqual({ kind: 'executed', file: '10_first.sql', index: 0 });
    // The attempt is the id of the DownloadsDrained that started the chain: a redelivery repeats it, a re-run (a
    // new DownloadsDrained) does not.
    const attempt = event.id;
    expect(d.engine.statements).toEqual([
      { sql: 'CREATE TABLE a (x int)', context: { runId, file: '10_first.sql', statementIndex: 0, attempt } },
      { sql: 'CREATE TABLE b (y int)', context: { runId, file: '10_first.sql', statementIndex: 1, attempt } },
    ]);
    expect(d.publisher.ofType('SqlFileExecuted')).toEqual([
      expect.objectContaining({
        file: '10_first.sql',
        index: 0,
        total: 3,
        statements: 2,
        queryExecutionIds: ['q-1', 'q-2'],
        dataScannedBytes: 200,
        // The SQL is pinned when the query stage starts; every later file is read at this version.
        sqlSha256: filesSha256,
        runSoFar: {
          files: ['10_first.sql'],
          results: {},
          queryExecutionIds: ['q-1', 'q-2'],
          dataScannedBytes: 200,
          durationMs: 4,
          // The download totals travel with the run to EtlDone, for the report.
          datasets: validDetails.DownloadsDrained.datasets,
        },
      }),
    ]);
  });

  it('fills placeholders from validated values', async () => {
    const d = deps();
    await runNextFile(
      executed({ ...validDetails.SqlFileExecuted, file: '10_first.sql', index: 0, total: 3 }),
      d,
    );
    expect(d.engine.statements[0]?.sql).toBe(
      "INSERT INTO fleet_etl.t SELECT * FROM raw WHERE run = '2026-11-24'",
    );
  });

  it('stores the last statement’s result set and names it after the file', async () => {
    const d = deps();
    await runNextFile(
      executed({ ...validDetails.SqlFileExecuted, file: '20_second.sql', index: 1, total: 3 }),
      d,
    );
    const [event] = d.publisher.ofType('SqlFileExecuted');
    expect(event).toMatchObject({ file: '30_answer.sql', resultKey: 'results/run=2026-11-24/answer.json' });
    expect(event?.runSoFar).toMatchObject({ results: { answer: 'results/run=2026-11-24/answer.json' } });
    expect(JSON.parse(d.resultsStore.text('results/run=2026-11-24/answer.json') ?? '')).toEqual({
      columns: ['one'],
      rows: [{ one: 1 }],
    });
  });

  it('announces EtlDone after the last file, with what the run carried forward', async () => {
    const d = deps();
    const runSoFar = {
      results: { answer: 'results/run=2026-11-24/answer.json' },
      queryExecutionIds: ['q-1', 'q-2', 'q-3', 'q-4'],
      dataScannedBytes: 400,
      durationMs: 8,
    };
    const outcome = await runNextFile(
      executed({ ...validDetails.SqlFileExecuted, file: '30_answer.sql', index: 2, total: 3, runSoFar }),
      d,
    );
    expect(outcome).toEqual({ kind: 'done' });
    expect(d.engine.statements).toEqual([]);
    expect(d.publisher.ofType('EtlDone')).toEqual([
      {
        schemaVersion: 1,
        runId,
        window,
        files: ['10_first.sql', '20_second.sql', '30_answer.sql'],
        results: runSoFar.results,
        summary: { queryExecutionIds: runSoFar.queryExecutionIds, dataScannedBytes: 400, durationMs: 8 },
      },
    ]);
  });

  it('fails the run with the file and the engine’s reason on a terminal error', async () => {
    const d = deps();
    d.engine.failWith = new TerminalError('SYNTAX_ERROR: line 1:8: Column x cannot be resolved');
    const outcome = await runNextFile(drained(), d);
    expect(outcome).toMatchObject({ kind: 'failed', file: '10_first.sql' });
    expect(d.publisher.ofType('EtlFailed')).toEqual([
      expect.objectContaining({
        stage: 'query-runner',
        file: '10_first.sql',
        reason: '10_first.sql: SYNTAX_ERROR: line 1:8: Column x cannot be resolved',
      }),
    ]);
  });

  it('fails the run naming the placeholder when a configured value could break out of the SQL', async () => {
    const d = { ...deps(), database: 'fleet_etl; DROP TABLE x --' };
    const outcome = await runNextFile(drained(), d);
    expect(outcome).toMatchObject({ kind: 'failed', file: '10_first.sql' });
    const [failed] = d.publisher.ofType('EtlFailed');
    expect(failed?.reason).toMatch(/^10_first\.sql: refusing to fill the SQL placeholders: .*database/s);
    expect(failed?.reason).not.toContain('DROP TABLE');
    expect(d.engine.statements).toEqual([]);
  });

  it('cuts a long terminal reason to what EtlFailed carries', async () => {
    const d = deps();
    d.engine.failWith = new TerminalError(`SYNTAX_ERROR: ${'x'.repeat(10_000)}`);
    await runNextFile(drained(), d);
    expect(d.publisher.ofType('EtlFailed')[0]?.reason).toHaveLength(4_000);
  });

  it('rethrows a transient error, so the bus retries the same file', async () => {
    const d = deps();
    d.engine.failWith = new TransientError('TooManyRequestsException');
    await expect(runNextFile(drained(), d)).rejects.toThrow('TooManyRequestsException');
    expect(d.publisher.events).toEqual([]);
  });

  it('lists every execution of a statement that took several (a write split in batches)', async () => {
    const d = deps();
    d.engine.execute = async () => ({
      queryExecutionId: 'q-3',
      queryExecutionIds: ['q-1', 'q-2', 'q-3'],
      dataScannedBytes: 30,
      durationMs: 3,
    });
    await runNextFile(
      executed({ ...validDetails.SqlFileExecuted, file: '10_first.sql', index: 0, total: 3 }),
      d,
    );
    expect(d.publisher.ofType('SqlFileExecuted')[0]).toMatchObject({
      file: '20_second.sql',
      queryExecutionIds: ['q-1', 'q-2', 'q-3'],
      dataScannedBytes: 30,
    });
  });

  it('fails the run when the SQL source lists no files', async () => {
    const d = { ...deps(), sqlSource: new FixedSqlSource([]) };
    await runNextFile(drained(), d);
    expect(d.publisher.ofType('EtlFailed')[0]).toMatchObject({
      reason: 'the SQL source lists no .sql files',
    });
  });

  // Found on the cloud twin (tests/cloud/faults/deliveries.test.ts): each event of the chain delivered twice
  // forked it at every step, and the night ended with 64 EtlDone.
  it('continues one chain on a redelivered event: the same Athena attempt, nothing announced twice', async () => {
    // Prepare: the chain's first step, then its SqlFileExecuted delivered twice.
    const d = deps();
    const start = drained();
    await runNextFile(start, d);
    const [first] = d.publisher.ofType('SqlFileExecuted');
    const next = executed(first as Record<string, unknown>);

    // Act
    const outcomes = [await runNextFile(next, d), await runNextFile(next, d), await runNextFile(start, d)];

    // Assess: the second file ran once, under the chain's id (the DownloadsDrained that started it).
    expect(outcomes).toEqual([
      { kind: 'executed', file: '20_second.sql', index: 1 },
      { kind: 'duplicate', step: 1 },
      { kind: 'duplicate', step: 0 },
    ]);
    expect(d.publisher.ofType('SqlFileExecuted').map((e) => [e.file, e.attempt])).toEqual([
      ['10_first.sql', start.id],
      ['20_second.sql', start.id],
    ]);
    expect(new Set(d.engine.statements.map((s) => s.context.attempt))).toEqual(new Set([start.id]));
  });

  it('announces EtlDone once however often the last SqlFileExecuted is delivered', async () => {
    const d = deps();
    const last = executed({ ...validDetails.SqlFileExecuted, file: '30_answer.sql', index: 2, total: 3 });
    expect(await runNextFile(last, d)).toEqual({ kind: 'done' });
    expect(await runNextFile(last, d)).toEqual({ kind: 'duplicate', step: 3 });
    expect(d.publisher.ofType('EtlDone')).toHaveLength(1);
  });

  it('starts another chain on another DownloadsDrained (a deliberate re-run)', async () => {
    const d = deps();
    await runNextFile(drained(), d);
    await runNextFile(drained(), d);
    const attempts = d.publisher.ofType('SqlFileExecuted').map((e) => e.attempt);
    expect(attempts).toHaveLength(2);
    expect(new Set(attempts).size).toBe(2);
  });
});

describe('runNextFile pins the SQL for the run', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'pinned-sql-'));
    await writeFile(path.join(folder, '10_first.sql'), 'CREATE TABLE a (x int);');
    await writeFile(path.join(folder, '20_second.sql'), 'CREATE TABLE b (y int);');
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses, and fails the night, when a folder file is edited between two files of the run', async () => {
    // Prepare
    const d = { ...deps(), sqlSource: new FolderSqlSource(folder) };
    await runNextFile(drained(), d);
    const [first] = d.publisher.ofType('SqlFileExecuted');

    // Act: an edit lands after the first file ran, before the second is read.
    await writeFile(path.join(folder, '20_second.sql'), 'CREATE TABLE b (y bigint);');
    const outcome = await runNextFile(executed(first ?? {}), d);

    // Assess: the second file did not run, in either version.
    expect(first?.sqlSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(outcome).toMatchObject({ kind: 'failed' });
    expect(d.engine.statements.map((s) => s.sql)).toEqual(['CREATE TABLE a (x int)']);
    expect(d.publisher.ofType('EtlFailed')).toEqual([
      expect.objectContaining({
        stage: 'query-runner',
        reason: expect.stringMatching(
          new RegExp(
            `^SQL folder ${folder} changed during the run: the run started at content sha256 ${first?.sqlSha256}`,
          ),
        ),
      }),
    ]);
  });

  it('runs the night through on an unchanged folder, and names its version in EtlDone without listing again', async () => {
    // Prepare
    const d = { ...deps(), sqlSource: new FolderSqlSource(folder) };
    await runNextFile(drained(), d);
    const [first] = d.publisher.ofType('SqlFileExecuted');
    await runNextFile(executed(first ?? {}), d);
    const [, second] = d.publisher.ofType('SqlFileExecuted');

    // Act: the last step needs no listing, so an edit after the last file ran mixes nothing and fails nothing.
    await writeFile(path.join(folder, '20_second.sql'), 'CREATE TABLE b (y bigint);');
    const outcome = await runNextFile(executed(second ?? {}), d);

    // Assess
    expect(outcome).toEqual({ kind: 'done' });
    expect(second).toMatchObject({
      sqlSha256: first?.sqlSha256,
      runSoFar: { files: ['10_first.sql', '20_second.sql'] },
    });
    expect(d.publisher.ofType('EtlDone')).toEqual([
      expect.objectContaining({ files: ['10_first.sql', '20_second.sql'], sqlSha256: first?.sqlSha256 }),
    ]);
  });

  it('pins the source at the next file when the previous one carried no version (an event from before pins)', async () => {
    const d = deps();
    await runNextFile(
      executed({ ...validDetails.SqlFileExecuted, file: '10_first.sql', index: 0, total: 3 }),
      d,
    );

    const [next] = d.publisher.ofType('SqlFileExecuted');
    expect(next).toMatchObject({ file: '20_second.sql', sqlSha256: filesSha256 });
    expect(d.logger.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'warn', message: expect.stringMatching(/carried no SQL version/) }),
      ]),
    );
  });
});

describe('runNextFile and the unknown-vehicle count (queries/35_unknown_vehicle_readings.sql)', () => {
  const countFile: SqlFile = { name: '35_unknown_vehicle_readings.sql', text: 'SELECT count(*) FROM r;' };

  /** An engine answering the count file's query with `rows`. */
  function countingDeps(rows: Record<string, string | number>[]) {
    const d = deps();
    d.sqlSource = new FixedSqlSource([countFile, { name: '40_answer.sql', text: 'SELECT 1;' }]);
    d.engine.execute = async (sql) => ({
      queryExecutionId: 'q-1',
      dataScannedBytes: 100,
      durationMs: 2,
      result: sql.includes('count')
        ? { columns: ['readings', 'unknown_vehicle_readings', 'unknown_vehicles'], rows }
        : { columns: ['one'], rows: [{ one: 1 }] },
    });
    return d;
  }

  it('carries the count to EtlDone instead of listing it among the answers, and warns when readings were dropped', async () => {
    // Prepare
    const d = countingDeps([{ readings: 1000, unknown_vehicle_readings: 30, unknown_vehicles: '2' }]);

    // Act
    await runNextFile(drained(), d);
    const [first] = d.publisher.ofType('SqlFileExecuted');
    await runNextFile(executed(first ?? {}), d);
    const [, second] = d.publisher.ofType('SqlFileExecuted');
    await runNextFile(executed(second ?? {}), d);

    // Assess
    const counts = { readings: 1000, unknownVehicleReadings: 30, unknownVehicles: 2 };
    expect(first).toMatchObject({ runSoFar: { results: {}, unknownVehicles: counts } });
    const [done] = d.publisher.ofType('EtlDone');
    expect(done).toMatchObject({ unknownVehicles: counts });
    expect(Object.keys(Object(done?.results))).toEqual(['answer']);
    expect(d.logger.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'warn', message: expect.stringMatching(/dropped by the join/) }),
      ]),
    );
  });

  it('fails the run naming the file when its result is not the one row of counts', async () => {
    // Prepare
    const d = countingDeps([{ readings: 'many', unknown_vehicle_readings: 0, unknown_vehicles: 0 }]);

    // Act
    const outcome = await runNextFile(drained(), d);

    // Assess
    expect(outcome).toMatchObject({ kind: 'failed', file: countFile.name });
    expect(d.publisher.ofType('EtlFailed')).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(
          /^35_unknown_vehicle_readings\.sql: .*must end with a query of one row/,
        ),
      }),
    ]);
  });
});

describe('runNextFile and check files (a check_ query must return no rows)', () => {
  const checkFile: SqlFile = { name: '15_check_repeated_rows.sql', text: 'SELECT * FROM repeated;' };

  function checkingDeps(found: Record<string, string | number>[]) {
    const d = deps();
    d.sqlSource = new FixedSqlSource([checkFile, { name: '40_answer.sql', text: 'SELECT 1;' }]);
    d.engine.execute = async (sql) => ({
      queryExecutionId: 'q-1',
      dataScannedBytes: 100,
      durationMs: 2,
      result: sql.includes('repeated')
        ? { columns: ['dataset', 'vehicle_id', 'copies'], rows: found }
        : { columns: ['one'], rows: [{ one: 1 }] },
    });
    return d;
  }

  it('goes on when the check finds nothing, and does not list it among the answers', async () => {
    const d = checkingDeps([]);

    await runNextFile(drained(), d);
    const [first] = d.publisher.ofType('SqlFileExecuted');
    await runNextFile(executed(first ?? {}), d);
    const [, second] = d.publisher.ofType('SqlFileExecuted');
    await runNextFile(executed(second ?? {}), d);

    const [done] = d.publisher.ofType('EtlDone');
    expect(Object.keys(Object(done?.results))).toEqual(['answer']);
    expect(d.publisher.ofType('EtlFailed')).toEqual([]);
  });

  it('fails the run at the check, naming the file, how many rows it found and the first ones', async () => {
    const found = Array.from({ length: 5 }, (_, i) => ({
      dataset: 'sensors',
      vehicle_id: `V${i}`,
      copies: 2,
    }));
    const d = checkingDeps(found);

    const outcome = await runNextFile(drained(), d);

    expect(outcome).toMatchObject({ kind: 'failed', file: checkFile.name });
    expect(d.publisher.ofType('SqlFileExecuted')).toEqual([]);
    expect(d.publisher.ofType('EtlFailed')).toEqual([
      expect.objectContaining({
        stage: 'query-runner',
        file: checkFile.name,
        reason:
          '15_check_repeated_rows.sql: check failed: 5 row(s) that must not exist: ' +
          '{"dataset":"sensors","vehicle_id":"V0","copies":2}; {"dataset":"sensors","vehicle_id":"V1","copies":2}; ' +
          '{"dataset":"sensors","vehicle_id":"V2","copies":2}, and 2 more',
      }),
    ]);
  });
});
