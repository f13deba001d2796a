/**
 * The report pages in a real browser, on a phone's width and a desktop's: Debian's chromium driven by
 * playwright-core (npm cannot download a browser here; CI installs chromium with apt-get). Each page must render,
 * log no errors, load nothing but itself, never scroll sideways, and show every label whole: not cut by the window
 * or by a box, not on top of another. The chart draws one bar per vehicle type, in proportion, labels beside the
 * bars on a desktop and above them on a phone. Screenshots of every page at every width go to test-output/report/.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { DetailType, parseFleetEvent } from '../../events/index.js';
import { FsObjectStore } from '../../services/adapters/local/fs-object-store.js';
import { SqliteRunLedger } from '../../services/adapters/local/sqlite/sqlite-run-ledger.js';
import { openStateDatabase } from '../../services/adapters/local/sqlite/state-database.js';
import { writeFailedNightReport, writeReport } from '../../services/report/write-report.js';
import { envelope, recordingLogger } from '../helpers/fakes.js';
import {
  brokenLabels,
  hiddenTexts,
  type Layout,
  LayoutSchema,
  MEASURE_LAYOUT,
  overlappingPairs,
} from '../helpers/page-layout.js';
import { runId, validDetails, window } from '../helpers/samples.js';

const BROWSER_TIMEOUT_MS = 90_000;
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The narrowest phone the report is for, and a desktop. */
const SIZES = [
  { name: 'phone', width: 360, height: 800, isMobile: true },
  { name: 'desktop', width: 1280, height: 900, isMobile: false },
] as const;
const SCREENSHOTS = path.resolve('test-output', 'report');
/** The smallest text a label may have on either screen. */
const MIN_FONT_PX = 12;

/** Debian's chromium, or the one CHROMIUM_PATH names; undefined when there is none. */
function findChromium(): string | undefined {
  const candidates = [
    process.env.CHROMIUM_PATH,
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .flatMap((dir) => ['chromium', 'chromium-browser'].map((name) => path.join(dir, name))),
  ];
  return candidates.find((file): file is string => {
    if (file === undefined || file === '' || !existsSync(file)) return false;
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const CHROMIUM = findChromium();
if (CHROMIUM === undefined && process.env.CI === undefined) {
  // Only when the browser is absent outside CI; CI installs it (`apt-get install -y chromium` in .ci/run).
  console.warn(
    "skipping the report's browser test: no chromium on PATH and CHROMIUM_PATH unset (apt-get install -y chromium)",
  );
}

if (CHROMIUM === undefined && process.env.CI !== undefined) {
  // In CI the browser test must run: a missing chromium is a broken CI machine, not a reason to skip.
  it('finds chromium (CI is set, so the browser test may not be skipped)', () => {
    throw new Error(
      'CI is set but no chromium is on PATH and CHROMIUM_PATH is unset: apt-get install -y chromium',
    );
  });
}

const withBrowser = CHROMIUM === undefined ? describe.skip : describe;

const AVG_KEY = 'results/run=2026-11-24/avg_seconds_between_measurements.json';
const answer = {
  columns: ['vehicle_type', 'avg_seconds_between_measurements', 'vehicles'],
  rows: [
    { vehicle_type: 'bus', avg_seconds_between_measurements: 29.824, vehicles: 30 },
    { vehicle_type: 'car', avg_seconds_between_measurements: 37.399, vehicles: 44 },
    { vehicle_type: 'motorbike', avg_seconds_between_measurements: 22.581, vehicles: 32 },
    { vehicle_type: 'truck', avg_seconds_between_measurements: 40.83, vehicles: 43 },
    { vehicle_type: 'van', avg_seconds_between_measurements: 41.429, vehicles: 32 },
  ],
};
const FAILED_REASON =
  'sensors page 3: fleet API failed sensors page 3: HTTP 400 invalid_request sensors page 3 always fails ' +
  '(simulated with --fail-page); https://fleet.example.com/v1/sensors?page=3&pageSize=50000&fromCreationDate=2026-11-24T00:00:00.000Z';

interface Opened {
  errors: string[];
  requests: string[];
  title: string;
  layout: Layout;
  screenshot: string;
}

/** A finished night's report and a failed night's, written by the consumer as `etl run` leaves them. */
async function writeReports(dir: string): Promise<{ succeeded: string; failed: string }> {
  const resultsStore = new FsObjectStore(path.join(dir, 'results'));
  await resultsStore.put(AVG_KEY, JSON.stringify(answer));
  const done = parseFleetEvent(
    envelope('EtlDone', {
      ...validDetails.EtlDone,
      files: [
        '10_raw_tables.sql',
        '20_vehicles_data.sql',
        '30_sensor_data.sql',
        '35_unknown_vehicle_readings.sql',
        '40_avg_seconds_between_measurements.sql',
      ],
      results: { avg_seconds_between_measurements: AVG_KEY },
      summary: {
        queryExecutionIds: ['q1', 'q2', 'q3', 'q4', 'q5'],
        dataScannedBytes: 11_534_336,
        durationMs: 2_037,
      },
      datasets: { vehicles: { pages: 1, rows: 200 }, sensors: { pages: 3, rows: 101_799 } },
      unknownVehicles: { readings: 101_799, unknownVehicleReadings: 200, unknownVehicles: 9 },
    }),
    [DetailType.EtlDone],
  );
  const succeeded = await writeReport(done, { resultsStore, logger: recordingLogger() });

  // The failed night is another run, in a store of its own (its report goes where the finished one's would).
  const failedStore = new FsObjectStore(path.join(dir, 'failed-results'));
  const ledger = new SqliteRunLedger(openStateDatabase(':memory:'));
  await ledger.recordPlan(runId, 'vehicles', { totalPages: 1, window });
  await ledger.recordPlan(runId, 'sensors', { totalPages: 3, window });
  await ledger.recordPage(runId, 'vehicles', 1, 200);
  await ledger.recordPage(runId, 'sensors', 1, 50_000);
  await ledger.recordPage(runId, 'sensors', 2, 50_000);
  await ledger.recordPageFailure(runId, 'sensors', 3, FAILED_REASON);
  const failedEvent = parseFleetEvent(
    envelope('EtlFailed', { ...validDetails.EtlFailed, reason: FAILED_REASON }),
    [DetailType.EtlFailed],
  );
  const failed = await writeFailedNightReport(failedEvent, {
    resultsStore: failedStore,
    ledger,
    logger: recordingLogger(),
  });
  if (failed === undefined) throw new Error('the failed night has no report');
  return {
    succeeded: resultsStore.pathOf(succeeded.files.html),
    failed: failedStore.pathOf(failed.files.html),
  };
}

withBrowser('the report pages in chromium, on a phone and a desktop', () => {
  const opened = new Map<string, Opened>();
  const key = (report: string, size: string) => `${report} at ${size}`;

  beforeAll(async () => {
    const files = await writeReports(mkdtempSync(path.join(tmpdir(), 'report-page-')));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      for (const size of SIZES) {
        const context = await browser.newContext({
          viewport: { width: size.width, height: size.height },
          isMobile: size.isMobile,
          hasTouch: size.isMobile,
          deviceScaleFactor: 1,
        });
        for (const [report, file] of Object.entries(files)) {
          const tab = await context.newPage();
          const errors: string[] = [];
          const requests: string[] = [];
          tab.on('console', (message) => {
            if (message.type() === 'error') errors.push(message.text());
          });
          tab.on('pageerror', (error) => errors.push(error.message));
          tab.on('request', (request) => requests.push(request.url()));
          await tab.goto(pathToFileURL(file).href, { waitUntil: 'load' });
          const layout = LayoutSchema.parse(JSON.parse(String(await tab.evaluate(MEASURE_LAYOUT))));
          const screenshot = path.join(SCREENSHOTS, `${report}-${size.width}px.png`);
          await tab.screenshot({ path: screenshot, fullPage: true });
          console.info(`report page screenshot (${report}, ${size.width}×${size.height}): ${screenshot}`);
          opened.set(key(report, size.name), {
            errors,
            requests,
            title: await tab.title(),
            layout,
            screenshot,
          });
          await tab.close();
        }
        await context.close();
      }
    } finally {
      await browser.close();
    }
  }, BROWSER_TIMEOUT_MS);

  const get = (report: string, size: string): Opened => {
    const page = opened.get(key(report, size));
    if (page === undefined) throw new Error(`${key(report, size)} was not opened`);
    return page;
  };

  it('titles each page after its night and its outcome', () => {
    expect(get('succeeded', 'desktop').title).toBe('fleet-etl · Night of 24 November 2026');
    expect(get('failed', 'desktop').title).toBe('fleet-etl · Night of 24 November 2026: failed');
  });

  describe.each(['succeeded', 'failed'])('the %s night', (report) => {
    describe.each(SIZES.map((s) => [`${s.width} px (${s.name})`, s] as const))('at %s', (_, size) => {
      const page = () => get(report, size.name);

      it('renders without console errors and loads nothing but the page itself', () => {
        expect(page().errors).toEqual([]);
        expect(page().requests).toEqual([expect.stringMatching(/^file:\/\/.*report\.html$/)]);
      });

      it('never scrolls sideways', () => {
        const { innerWidth, scrollWidth, bodyScrollWidth } = page().layout;
        expect(innerWidth).toBe(size.width);
        expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
        expect(bodyScrollWidth).toBeLessThanOrEqual(innerWidth);
      });

      it('shows every label whole (not cut, not broken over two lines), at a readable size, and each table without scrolling it', () => {
        const { texts, tableBoxes } = page().layout;
        expect(texts.length).toBeGreaterThan(20);
        expect(hiddenTexts(page().layout)).toEqual([]);
        expect(brokenLabels(page().layout)).toEqual([]);
        expect(texts.filter((t) => t.fontSizePx < MIN_FONT_PX).map((t) => t.text)).toEqual([]);
        // Painted, not declared: text scaled down (as an SVG's is to fit a phone) keeps its font-size.
        const painted = (t: (typeof texts)[number]) => (t.box.bottom - t.box.top) / Math.max(1, t.lines);
        expect(
          texts.filter((t) => painted(t) < MIN_FONT_PX).map((t) => `${t.text}: ${painted(t)} px`),
        ).toEqual([]);
        expect(tableBoxes.length).toBeGreaterThan(0);
        for (const box of tableBoxes) expect(box.scrollWidth).toBeLessThanOrEqual(box.clientWidth);
      });
    });
  });

  describe.each(SIZES.map((s) => [`${s.width} px (${s.name})`, s] as const))('the chart at %s', (_, size) => {
    const layout = () => get('succeeded', size.name).layout;

    it('draws one bar per vehicle type, longest first, in proportion to its value', () => {
      const { rows } = layout();
      expect(rows.map((r) => r.label)).toEqual(['van', 'truck', 'car', 'bus', 'motorbike']);
      const perSecond = rows.map((r) => (r.bar.right - r.bar.left) / r.value);
      const first = perSecond[0] ?? 0;
      expect(first).toBeGreaterThan(0);
      for (const ratio of perSecond) expect(Math.abs(ratio - first) * 41.429).toBeLessThan(1.5);
    });

    it('puts each label clear of its bar (beside it on a desktop, above it on a phone) and each value after it', () => {
      for (const row of layout().rows) {
        if (size.name === 'phone') expect(row.name.bottom).toBeLessThanOrEqual(row.bar.top + 0.5);
        else expect(row.name.right).toBeLessThanOrEqual(row.bar.left + 0.5);
        expect(row.valueText.left).toBeGreaterThanOrEqual(row.bar.right);
      }
    });

    it('keeps the labels, values and scale from running into each other', () => {
      const { rows, ticks } = layout();
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(overlappingPairs(ticks)).toEqual([]);
      expect(overlappingPairs(rows.flatMap((r) => [r.name, r.bar, r.valueText]))).toEqual([]);
    });
  });

  it('wrote a screenshot of each page at each width', () => {
    const shots = [...opened.values()].map((p) => p.screenshot);
    expect(shots).toHaveLength(4);
    for (const shot of shots) expect(existsSync(shot)).toBe(true);
  });
});
