/**
 * A night that fails still has a report: `etl run` against the simulator with sensors page 2 failing on every
 * request ends with exit 1, and the report consumer, on the EtlFailed the downloader published, wrote report.html
 * and report.json where `etl run` says the report is: what failed (stage, dataset, page, reason) and where the
 * night stopped (both datasets planned, the pages stored of those planned, the page that gave up). Resuming the
 * night without the fault replaces it with the night's answer.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { AnyReportSchema } from '../../services/report/write-report.js';
import { lastJsonLine, runEtl } from '../helpers/etl-process.js';

const DAY = '2026-11-24';
/** 20 vehicles × 50 readings (seed 7) in pages of 400: two sensors pages, so page 2 failing leaves one stored. */
const FLEET = ['--vehicles', '20', '--readings', '50', '--seed', '7', '--page-size', '400'];
const RUN_TIMEOUT_MS = 90_000;

const RunJsonSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  report: z.string(),
  failures: z.array(z.string()),
});

describe('the report of a failed night, from `etl run`', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'failed-night-report-'));
  const run = (extra: string[]) =>
    runEtl(['run', '--date', DAY, '--state-dir', stateDir, ...FLEET, ...extra, '--json'], {
      cwd: stateDir,
      timeoutMs: RUN_TIMEOUT_MS,
    });
  let failed: z.infer<typeof RunJsonSchema>;

  beforeAll(async () => {
    const outcome = await run(['--fail-page', 'sensors:2']);
    expect({ exitCode: outcome.exitCode, timedOut: outcome.timedOut }).toEqual({
      exitCode: 1,
      timedOut: false,
    });
    failed = RunJsonSchema.parse(lastJsonLine(outcome.stdout));
  }, RUN_TIMEOUT_MS);

  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('writes report.html and report.json where `etl run` says the report is', () => {
    expect(failed.status).toBe('failed');
    const html = path.resolve(stateDir, failed.report);
    expect(html).toBe(path.join(stateDir, 'results', 'reports', `run=${DAY}`, 'report.html'));
    expect(existsSync(html)).toBe(true);
    expect(existsSync(path.join(path.dirname(html), 'report.json'))).toBe(true);
  });

  it('says what failed and where the night stopped', () => {
    const folder = path.join(stateDir, 'results', 'reports', `run=${DAY}`);
    const report = AnyReportSchema.parse(JSON.parse(readFileSync(path.join(folder, 'report.json'), 'utf8')));
    if (report.status !== 'failed') throw new Error(`expected a failed night's report, got ${report.status}`);
    expect(report.failure).toEqual({
      stage: 'downloader',
      dataset: 'sensors',
      page: 2,
      reason: expect.stringContaining('sensors page 2 always fails (simulated with --fail-page)'),
    });
    expect(report.datasets).toEqual({
      vehicles: { plannedPages: 1, storedPages: 1, rows: 20 },
      sensors: { plannedPages: 2, storedPages: 1, rows: 400 },
    });
    expect(report.failedPages).toEqual([
      { dataset: 'sensors', page: 2, reason: expect.stringContaining('HTTP 400') },
    ]);
    expect(report.drained).toBe(false);

    const html = readFileSync(path.join(folder, 'report.html'), 'utf8');
    expect(html).toContain('<title>fleet-etl · Night of 24 November 2026: failed</title>');
    expect(html).toContain('<dt>Stage</dt><dd>downloader</dd>');
    expect(html).toContain('<dt>Dataset</dt><dd>sensors</dd>');
    expect(html).toContain('<dt>Page</dt><dd>2</dd>');
    expect(html).toContain('sensors page 2 always fails (simulated with --fail-page)');
    expect(html).toContain('vehicles: 1 of 1 page stored, sensors: 1 of 2 pages stored; 1 page gave up');
    expect(html).toContain('SQL files</strong> <span class="detail">not started: downloads never drained');
  });

  it(
    'gives way to the answer when the night is resumed and finishes',
    async () => {
      const outcome = await run([]);
      expect(outcome.exitCode).toBe(0);
      const folder = path.join(stateDir, 'results', 'reports', `run=${DAY}`);
      const report = AnyReportSchema.parse(
        JSON.parse(readFileSync(path.join(folder, 'report.json'), 'utf8')),
      );
      expect(report.status).toBe('succeeded');
      const html = readFileSync(path.join(folder, 'report.html'), 'utf8');
      expect(html).toContain('<title>fleet-etl · Night of 24 November 2026</title>');
      expect(html).not.toContain('What failed');
    },
    RUN_TIMEOUT_MS,
  );
});
