/**
 * The report page in a real browser: Debian's chromium driven by playwright-core (npm cannot download a browser
 * here; CI installs chromium with apt-get). It must render, log no errors, load nothing but itself, and draw one
 * bar per vehicle type.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { DetailType, parseFleetEvent } from '../../events/index.js';
import { FsObjectStore } from '../../services/adapters/local/fs-object-store.js';
import { writeReport } from '../../services/report/write-report.js';
import { envelope, recordingLogger } from '../helpers/fakes.js';
import { validDetails } from '../helpers/samples.js';

const CHROMIUM = '/usr/bin/chromium';
const BROWSER_TIMEOUT_MS = 60_000;
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

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

if (!existsSync(CHROMIUM)) {
  // Only when the browser is absent; CI installs it (`apt-get install -y chromium` in .ci/run).
  console.warn(
    `skipping the report's browser test: ${CHROMIUM} is not installed (apt-get install -y chromium)`,
  );
}
const withBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

withBrowser('the report page in chromium', () => {
  let page: { errors: string[]; requests: string[]; bars: { label: string; width: number }[]; title: string };
  const dir = mkdtempSync(path.join(tmpdir(), 'report-page-'));

  beforeAll(async () => {
    // Prepare: a report written by the consumer, on the filesystem as `etl run` leaves it.
    const resultsStore = new FsObjectStore(path.join(dir, 'results'));
    await resultsStore.put(AVG_KEY, JSON.stringify(answer));
    const event = parseFleetEvent(
      envelope('EtlDone', {
        ...validDetails.EtlDone,
        files: [
          '10_raw_tables.sql',
          '20_vehicles_data.sql',
          '30_sensor_data.sql',
          '40_avg_seconds_between_measurements.sql',
        ],
        results: { avg_seconds_between_measurements: AVG_KEY },
        summary: {
          queryExecutionIds: ['q1', 'q2', 'q3', 'q4'],
          dataScannedBytes: 11_534_336,
          durationMs: 2_037,
        },
        datasets: { vehicles: { pages: 1, rows: 200 }, sensors: { pages: 3, rows: 101_799 } },
      }),
      [DetailType.EtlDone],
    );
    const report = await writeReport(event, { resultsStore, logger: recordingLogger() });
    const file = resultsStore.pathOf(report.files.html);

    // Act: open it in a fresh profile.
    const context = await chromium.launchPersistentContext(
      mkdtempSync(path.join(tmpdir(), 'chromium-profile-')),
      {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        viewport: { width: 1000, height: 900 },
      },
    );
    try {
      const tab = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      tab.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      tab.on('pageerror', (error) => errors.push(error.message));
      tab.on('request', (request) => requests.push(request.url()));
      await tab.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const bars = await tab.$$eval('svg rect.bar', (rects) =>
        rects.map((r) => ({
          label: r.getAttribute('data-label') ?? '',
          width: r.getBoundingClientRect().width,
        })),
      );
      const screenshot = path.join(tmpdir(), 'fleet-etl-report-page.png');
      await tab.screenshot({ path: screenshot, fullPage: true });
      console.info(`report page screenshot: ${screenshot}`);
      page = { errors, requests, bars, title: await tab.title() };
    } finally {
      await context.close();
    }
  }, BROWSER_TIMEOUT_MS);

  it('renders without console errors', () => {
    expect(page.errors).toEqual([]);
    expect(page.title).toBe('fleet-etl · Night of 24 November 2026');
  });

  it('loads nothing but the page itself', () => {
    expect(page.requests.every((url) => url.startsWith('file://') && url.endsWith('report.html'))).toBe(true);
  });

  it('draws one visible bar per vehicle type, longest first', () => {
    expect(page.bars.map((b) => b.label)).toEqual(['van', 'truck', 'car', 'bus', 'motorbike']);
    const widths = page.bars.map((b) => b.width);
    expect(widths.every((w) => w > 0)).toBe(true);
    expect(widths).toEqual([...widths].sort((a, b) => b - a));
  });
});
