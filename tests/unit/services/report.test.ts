import { DetailType, parseFleetEvent } from '../../../events/index.js';
import { toCsv } from '../../../services/report/csv.js';
import { ReportSchema, writeReport } from '../../../services/report/write-report.js';
import { TerminalError } from '../../../services/shared/errors.js';
import { envelope, MemoryObjectStore, recordingLogger } from '../../helpers/fakes.js';
import { validDetails } from '../../helpers/samples.js';

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
    expect(html.match(/<rect class="bar"/g)).toHaveLength(3);
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
