import { DetailType, parseFleetEvent } from '../../../../events/index.js';
import { SqliteRunLedger } from '../../../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../../../services/adapters/local/sqlite/state-database.js';
import { toCsv } from '../../../../services/report/csv.js';
import { nightSteps } from '../../../../services/report/failed-night.js';
import {
  AnyReportSchema,
  FailedReportSchema,
  ReportSchema,
  writeFailedNightReport,
  writeReport,
} from '../../../../services/report/write-report.js';
import { TerminalError } from '../../../../services/shared/errors.js';
import { envelope, MemoryObjectStore, recordingLogger } from '../../../helpers/fakes.js';
import { runId, validDetails, window } from '../../../helpers/samples.js';

const AVG_KEY = 'results/run=2026-11-24/avg_seconds_between_measurements.json';
const avg = {
  columns: ['vehicle_type', 'avg_seconds_between_measurements', 'vehicles'],
  rows: [
    { vehicle_type: 'bus', avg_seconds_between_measurements: 29.824, vehicles: 30 },
    { vehicle_type: 'truck', avg_seconds_between_measurements: 40.83, vehicles: 43 },
    { vehicle_type: 'car', avg_seconds_between_measurements: 37.399, vehicles: 1 },
  ],
};

const done = (extra: Record<string, unknown> = {}) =>
  parseFleetEvent(
    envelope('EtlDone', {
      ...validDetails.EtlDone,
      results: { avg_seconds_between_measurements: AVG_KEY },
      ...extra,
    }),
    [DetailType.EtlDone],
  );

async function storeWithResults() {
  const resultsStore = new MemoryObjectStore();
  await resultsStore.put(AVG_KEY, JSON.stringify(avg));
  return resultsStore;
}

describe('writeReport', () => {
  it('writes report.json, one CSV per result and the HTML page next to each other', async () => {
    // Prepare
    const resultsStore = await storeWithResults();
    const datasets = { vehicles: { pages: 1, rows: 200 }, sensors: { pages: 3, rows: 101_799 } };

    // Act
    const report = await writeReport(done({ datasets }), { resultsStore, logger: recordingLogger() });

    // Assess
    expect(report.files).toEqual({
      json: 'reports/run=2026-11-24/report.json',
      html: 'reports/run=2026-11-24/report.html',
      csv: {
        avg_seconds_between_measurements: 'reports/run=2026-11-24/avg_seconds_between_measurements.csv',
      },
    });
    const json = ReportSchema.parse(JSON.parse(resultsStore.text(report.files.json) ?? ''));
    expect(json.results.avg_seconds_between_measurements).toEqual(avg);
    expect(json.datasets).toEqual(datasets);
    expect(json.finishedAt).toBe('2026-11-25T01:00:00Z');
    expect(resultsStore.text(report.files.csv.avg_seconds_between_measurements ?? '')).toBe(
      'vehicle_type,avg_seconds_between_measurements,vehicles\r\nbus,29.824,30\r\ntruck,40.83,43\r\ncar,37.399,1\r\n',
    );
    const html = resultsStore.text(report.files.html) ?? '';
    expect(html.match(/<span class="bar"/g)).toHaveLength(3);
    expect(html).toContain('101,799');
    expect(html).not.toMatch(/<script|<link|src=|url\(/);
  });

  it('draws the bars longest first, each with its value and vehicle count', async () => {
    const resultsStore = await storeWithResults();
    const report = await writeReport(done(), { resultsStore, logger: recordingLogger() });
    const html = resultsStore.text(report.files.html) ?? '';
    const labels = [...html.matchAll(/data-label="([^"]+)"/g)].map((m) => m[1]);
    expect(labels).toEqual(['truck', 'car', 'bus']);
    expect(html).toContain('40.8 s');
    expect(html).toContain('1 vehicle<');
    expect(html).toContain('43 vehicles');
  });

  it('shows the readings the join dropped for an unknown vehicle, when the event counts them', async () => {
    const resultsStore = await storeWithResults();
    const unknownVehicles = { readings: 101_799, unknownVehicleReadings: 200, unknownVehicles: 9 };
    const report = await writeReport(done({ unknownVehicles }), { resultsStore, logger: recordingLogger() });
    const html = resultsStore.text(report.files.html) ?? '';
    expect(html).toContain('readings of unknown vehicles dropped by the join · 9 vehicles');
    expect(html).toContain('200 <span class="of">of 101,799 (0.2%)</span>');
    expect(
      ReportSchema.parse(JSON.parse(resultsStore.text(report.files.json) ?? '')).unknownVehicles,
    ).toEqual(unknownVehicles);
  });

  it('says that the answer covers every night in the warehouse, and when the join losses were not counted', async () => {
    const resultsStore = await storeWithResults();
    const report = await writeReport(done(), { resultsStore, logger: recordingLogger() });
    const html = resultsStore.text(report.files.html) ?? '';
    expect(html).toContain('every night loaded into it so far, not this night alone');
    expect(html).toContain('Readings dropped for an unknown vehicle were not counted');
  });

  it('lets long column names wrap and puts each table in a box of its own', async () => {
    const resultsStore = await storeWithResults();
    const report = await writeReport(done(), { resultsStore, logger: recordingLogger() });
    const html = resultsStore.text(report.files.html) ?? '';
    expect(html).toContain('<th class="num">avg_<wbr>seconds_<wbr>between_<wbr>measurements</th>');
    expect(html).toMatch(/<div class="table-box"[^>]*><table>/);
  });

  it('says so when the event carries no download counts', async () => {
    const resultsStore = await storeWithResults();
    const report = await writeReport(done(), { resultsStore, logger: recordingLogger() });
    expect(resultsStore.text(report.files.html)).toContain('Download counts were not carried');
  });

  it('rewrites the same bytes when the event comes again (redelivery, replay)', async () => {
    const resultsStore = await storeWithResults();
    const event = done();
    const report = await writeReport(event, { resultsStore, logger: recordingLogger() });
    const first = [...resultsStore.objects.entries()].map(([k, v]) => [k, Buffer.from(v).toString('hex')]);
    await writeReport({ ...event, 'replay-name': 'again' }, { resultsStore, logger: recordingLogger() });
    const second = [...resultsStore.objects.entries()].map(([k, v]) => [k, Buffer.from(v).toString('hex')]);
    expect(second).toEqual(first);
    expect(report.files.html).toBeDefined();
  });

  it('fails, naming the result and key, when a result is missing', async () => {
    const writing = writeReport(done(), { resultsStore: new MemoryObjectStore(), logger: recordingLogger() });
    await expect(writing).rejects.toThrow(TerminalError);
    await expect(
      writeReport(done(), { resultsStore: new MemoryObjectStore(), logger: recordingLogger() }),
    ).rejects.toThrow(`result "avg_seconds_between_measurements" of run 2026-11-24 is missing at ${AVG_KEY}`);
  });

  it('refuses a stored result that is not a result set', async () => {
    const resultsStore = new MemoryObjectStore();
    await resultsStore.put(AVG_KEY, '{"rows": 3}');
    await expect(writeReport(done(), { resultsStore, logger: recordingLogger() })).rejects.toThrow(
      /result "avg_seconds_between_measurements" at .* is not a result set/,
    );
  });

  it('escapes what the data holds', async () => {
    const resultsStore = new MemoryObjectStore();
    const evil = {
      columns: ['vehicle_type', 'avg_seconds_between_measurements'],
      rows: [{ vehicle_type: '<img src=x>', avg_seconds_between_measurements: 1 }],
    };
    await resultsStore.put(AVG_KEY, JSON.stringify(evil));
    const report = await writeReport(done(), { resultsStore, logger: recordingLogger() });
    expect(resultsStore.text(report.files.html)).not.toContain('<img');
  });
});

describe('toCsv', () => {
  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    const csv = toCsv({
      columns: ['a', 'b'],
      rows: [
        { a: 'x,y', b: 'say "hi"' },
        { a: '=SUM(A1)', b: null },
        { a: -1.5, b: true },
      ],
    });
    expect(csv).toBe('a,b\r\n"x,y","say ""hi"""\r\n\'=SUM(A1),\r\n-1.5,true\r\n');
  });
});

describe('writeFailedNightReport', () => {
  const failed = (detail: Record<string, unknown>, time = '2026-11-25T01:03:07Z') =>
    parseFleetEvent(envelope('EtlFailed', { ...validDetails.EtlFailed, ...detail }, { time }), [
      DetailType.EtlFailed,
    ]);
  const ledger = () => new SqliteRunLedger(openStateDatabase(':memory:'));

  it('says what failed and where the night stopped: plans, pages stored of planned, the page that gave up', async () => {
    // Prepare: both datasets planned, sensors page 3 gave up, the other pages stored.
    const resultsStore = new MemoryObjectStore();
    const l = ledger();
    await l.recordPlan(runId, 'vehicles', { totalPages: 1, window });
    await l.recordPlan(runId, 'sensors', { totalPages: 3, window });
    await l.recordPage(runId, 'vehicles', 1, 200);
    await l.recordPage(runId, 'sensors', 1, 50_000);
    await l.recordPage(runId, 'sensors', 2, 50_000);
    const reason = 'sensors page 3: fleet API failed sensors page 3: HTTP 400 invalid_request';
    await l.recordPageFailure(runId, 'sensors', 3, reason);

    // Act
    const report = await writeFailedNightReport(
      failed({ stage: 'downloader', dataset: 'sensors', page: 3, reason }),
      { resultsStore, ledger: l, logger: recordingLogger() },
    );

    // Assess: report.json and the page, where a finished night's would be.
    expect(report?.files).toEqual({
      json: 'reports/run=2026-11-24/report.json',
      html: 'reports/run=2026-11-24/report.html',
      csv: {},
    });
    const json = AnyReportSchema.parse(JSON.parse(resultsStore.text(report?.files.json ?? '') ?? ''));
    expect(json).toEqual({
      status: 'failed',
      runId,
      window,
      failedAt: '2026-11-25T01:03:07Z',
      failure: { stage: 'downloader', reason, dataset: 'sensors', page: 3 },
      datasets: {
        vehicles: { plannedPages: 1, storedPages: 1, rows: 200 },
        sensors: { plannedPages: 3, storedPages: 2, rows: 100_000 },
      },
      failedPages: [{ dataset: 'sensors', page: 3, reason }],
      drained: false,
      files: report?.files,
    });
    const html = resultsStore.text(report?.files.html ?? '') ?? '';
    expect(html).toContain('<title>fleet-etl · Night of 24 November 2026: failed</title>');
    expect(html).toContain('<dt>Stage</dt><dd>downloader</dd>');
    expect(html).toContain('<dt>Dataset</dt><dd>sensors</dd>');
    expect(html).toContain('<dt>Page</dt><dd>3</dd>');
    expect(html).toContain(`<p class="reason">${reason}</p>`);
    expect(html).toContain('sensors: 2 of 3 pages stored');
    expect(html).toContain(
      '<td>sensors</td><td class="num">3</td><td class="num">2</td><td class="num">100,000</td>',
    );
    expect(html).not.toMatch(/<script|<link|src=|url\(/);
  });

  it('walks the stages: planned and downloaded before a SQL file failed, the file named', () => {
    const report = FailedReportSchema.parse({
      status: 'failed',
      runId,
      window,
      failedAt: '2026-11-25T01:05:00Z',
      failure: { stage: 'query-runner', reason: 'syntax error', file: '30_sensor_data.sql' },
      datasets: {
        vehicles: { plannedPages: 1, storedPages: 1, rows: 200 },
        sensors: { plannedPages: 3, storedPages: 3, rows: 101_799 },
      },
      failedPages: [],
      drained: true,
      files: { json: 'j', html: 'h', csv: {} },
    });
    expect(nightSteps(report).map(({ name, state, detail }) => `${name}: ${state}: ${detail}`)).toEqual([
      'Plan: done: vehicles: 1 page, sensors: 3 pages',
      'Download: done: vehicles: 1 of 1 page stored, sensors: 3 of 3 pages stored',
      'SQL files: failed: stopped at 30_sensor_data.sql',
      'Answer and report: not reached: no answer; this page is the report',
    ]);
  });

  it('walks the stages of a night whose planner failed: nothing planned, the window unknown', async () => {
    const resultsStore = new MemoryObjectStore();
    const report = await writeFailedNightReport(
      failed({ stage: 'planner', dataset: 'vehicles', page: undefined, reason: 'token request: HTTP 401' }),
      { resultsStore, ledger: ledger(), logger: recordingLogger() },
    );
    if (report === undefined) throw new Error('expected a report');
    expect(nightSteps(report).map(({ name, state }) => `${name}: ${state}`)).toEqual([
      'Plan: failed',
      'Download: not reached',
      'SQL files: not reached',
      'Answer and report: not reached',
    ]);
    const html = resultsStore.text(report.files.html) ?? '';
    expect(html).toContain('Window unknown: no plan of the night was recorded');
    expect(html).toContain('vehicles: not planned, sensors: not planned');
    expect(html).toContain('The run ledger has no plan and no page of this night.');
  });

  it('leaves the report of a night the ledger says finished alone (a late or replayed EtlFailed)', async () => {
    const resultsStore = new MemoryObjectStore();
    const l = ledger();
    await l.recordPlan(runId, 'sensors', { totalPages: 1, window });
    await l.markFinished(runId);
    const logger = recordingLogger();
    const report = await writeFailedNightReport(failed({}), { resultsStore, ledger: l, logger });
    expect(report).toBeUndefined();
    expect(resultsStore.objects.size).toBe(0);
    expect(logger.lines.map((line) => line.message)).toEqual([
      'failure of a finished night: report left as it is',
    ]);
  });

  it('escapes the reason, which quotes what the API sent', async () => {
    const resultsStore = new MemoryObjectStore();
    const report = await writeFailedNightReport(failed({ reason: 'HTTP 500 <img src=x onerror=alert(1)>' }), {
      resultsStore,
      ledger: ledger(),
      logger: recordingLogger(),
    });
    expect(resultsStore.text(report?.files.html ?? '')).not.toContain('<img');
  });

  it('rewrites the same bytes for the same event and ledger (redelivery)', async () => {
    const resultsStore = new MemoryObjectStore();
    const l = ledger();
    await l.recordPlan(runId, 'sensors', { totalPages: 2, window });
    await l.recordPageFailure(runId, 'sensors', 2, 'b');
    await l.recordPageFailure(runId, 'sensors', 1, 'a');
    const event = failed({});
    await writeFailedNightReport(event, { resultsStore, ledger: l, logger: recordingLogger() });
    const first = new Map(resultsStore.objects);
    await writeFailedNightReport(event, { resultsStore, ledger: l, logger: recordingLogger() });
    expect(resultsStore.objects).toEqual(first);
    const json = FailedReportSchema.parse(
      JSON.parse(resultsStore.text('reports/run=2026-11-24/report.json') ?? ''),
    );
    expect(json.failedPages.map((f) => f.page)).toEqual([1, 2]);
  });
});
