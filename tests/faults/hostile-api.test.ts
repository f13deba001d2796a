import { rmSync } from 'node:fs';
import { PAGE_SIZE } from './harness.js';
import {
  type HostileRun,
  type HostileWorld,
  hostileNight,
  hostileWorld,
} from './hostile-api/hostile-night.js';
import type { Behaviour } from './hostile-api/hostile-options.js';
import { type Answer, checkInvariants, independentAnswer } from './invariants.js';
import { type Scenario, SuiteRecorder } from './scenario.js';

/**
 * `etl run --source` (the real command, a process of its own) against a fleet API that is not the simulator: a
 * hostile server in a third process (tests/faults/hostile-api/server.ts), written against the wire contract only,
 * over real sockets on 127.0.0.1. Each scenario is one way a real API, or a proxy in front of it, breaks the
 * contract; each run is held to the same invariants as the in-process scenarios (invariants.ts): every row of the
 * night once or the night fails naming the bad input, nothing half stored, no task left, no secret or token written.
 */

/** A Lambda's memory is 512 MB or more; no answer from the API may take a process past it. */
const MAX_RSS_BYTES = 512 * 1024 * 1024;

const world: HostileWorld = hostileWorld();
const baseline: Answer = independentAnswer({ world: world.night });
/** The pages an API that ignores the date filters makes of the three days it holds. */
const allDaysPages = {
  vehicles: Math.ceil(world.all.vehicles.length / PAGE_SIZE),
  sensors: Math.ceil(world.all.sensors.length / PAGE_SIZE),
};

const night = (behaviour: Behaviour, options: Omit<Parameters<typeof hostileNight>[1], 'behaviour'> = {}) =>
  hostileNight(world, { behaviour, ...options });
const faults = (run: HostileRun) => run.api.faults;
const peakMemory = (run: HostileRun): string[] =>
  run.output.maxRssBytes !== undefined && run.output.maxRssBytes > MAX_RSS_BYTES
    ? [`etl run peaked at ${Math.round(run.output.maxRssBytes / 2 ** 20)} MiB`]
    : [];

const scenarios: Scenario<HostileRun>[] = [
  {
    name: 'hostile API ignores the date filter',
    injected:
      'every page holds rows of the night before, the night and the night after, whatever the filters say',
    expect: { kind: 'failure', failure: /sensors page \d+: .*row\(s\) created outside the window asked for/ },
    run: () => night({ kind: 'ignores-date-filter' }),
    faults,
    extraChecks: (run) => {
      const reason = run.output.failures.find((f) => /outside the window asked for/.test(f)) ?? '';
      const named =
        /sensors page \d+: .*\d+ row\(s\) created outside the window asked for \(2026-11-24T00:00:00\.000Z to 2026-11-25T00:00:00\.000Z\), e\.g\. one created at 2026-11-2\dT[\d:.]+Z/;
      return named.test(reason)
        ? []
        : [`the failure does not name the count, an example and the window: ${reason}`];
    },
  },
  {
    name: 'hostile API ignores the date filter, rows outside the window allowed',
    injected: 'the same API; the source configuration says checks.rowsOutsideWindow: "warn"',
    expect: { kind: 'answer', apiPages: allDaysPages },
    run: () => night({ kind: 'ignores-date-filter' }, { dataset: { checks: { rowsOutsideWindow: 'warn' } } }),
    faults,
    extraChecks: (run) => {
      const outside = run.output.outsideWindow.sensors ?? 0;
      const expected = world.all.sensors.length - world.night.sensors.length;
      const problems = outside === expected ? [] : [`${outside} sensor rows left out, ${expected} expected`];
      if (!/WARNING: most sensors rows the API sent were outside the window/.test(run.process.stderr)) {
        problems.push('no warning that the API may ignore the date filters');
      }
      return problems;
    },
  },
  {
    name: 'hostile API says total_pages: 0 with rows on page 1',
    injected: 'total_pages 0 on every answer, the night’s rows on page 1',
    expect: { kind: 'failure', failure: /total_pages is 0, yet page 1 has \d+ row\(s\)/ },
    run: () => night({ kind: 'total-pages-zero' }),
    faults,
  },
  {
    name: 'hostile API ignores page',
    injected: 'every page answers page 1’s rows, echoing the page asked',
    expect: { kind: 'failure', failure: /15_check_repeated_rows\.sql: check failed/, apiRepeatsRows: true },
    run: () => night({ kind: 'ignores-page', echo: 'asked' }),
    faults,
  },
  {
    name: 'hostile API ignores page and echoes none',
    injected: 'every page answers page 1’s rows, with no page number in the body',
    expect: { kind: 'failure', failure: /15_check_repeated_rows\.sql: check failed/, apiRepeatsRows: true },
    run: () => night({ kind: 'ignores-page', echo: 'none' }),
    faults,
  },
  {
    name: 'hostile API echoes the wrong page',
    injected: 'the right rows, the next page’s number in the body',
    expect: { kind: 'failure', failure: /page 1: the API answered page 2 instead/ },
    run: () => night({ kind: 'echoes-wrong-page' }),
    faults,
  },
  {
    name: 'hostile API echoes no page number',
    injected: 'the right rows, no page number in any body (the echo is optional; the row counts are not)',
    expect: { kind: 'answer' },
    run: () => night({ kind: 'no-page-echo' }),
    faults,
  },
  {
    name: 'hostile API orders rows differently on every request',
    injected:
      'each request pages the night in another order: pages overlap, rows go missing, counts stay right',
    expect: { kind: 'failure', failure: /15_check_repeated_rows\.sql: check failed/, apiRepeatsRows: true },
    run: () => night({ kind: 'unstable-order' }),
    faults,
  },
  {
    name: 'hostile API says total_pages: 1e9',
    injected: 'total_pages written as the JSON number 1e9',
    expect: {
      kind: 'failure',
      failure: /total_pages is 1000000000, more than the 100000 pages a night may plan/,
    },
    run: () => night({ kind: 'total-pages-text', text: '1e9' }),
    faults,
  },
  {
    name: 'hostile API asks to wait a day',
    injected: 'sensors page 2 answers 429 with Retry-After: 86400',
    // Said as a wait on the first answer, as a time once the task came back (the last receive's reason is kept).
    expect: {
      kind: 'failure',
      failure: /sensors page 2: .*asked to wait (86400 s|until \S+ \(\d+ s from now\))/,
    },
    run: () => night({ kind: 'retry-after', target: { dataset: 'sensors', page: 2 }, header: '86400' }),
    faults,
    // Told to wait a day, the run must not ask again: neither by its retries nor when the queue delivers the task again.
    extraChecks: (run) => {
      const asked = run.api.pageRequests['sensors:2'] ?? 0;
      return asked === 1 ? [] : [`sensors page 2 asked ${asked} times after a Retry-After of a day`];
    },
  },
  {
    name: 'hostile token endpoint redirects to another origin',
    injected: 'POST /oauth/token answers 307 to the same path on another port',
    expect: { kind: 'failure', failure: /redirected the token request \(HTTP 307\) to another origin/ },
    run: () => night({ kind: 'token-redirect', status: 307 }),
    faults,
    extraChecks: (run) =>
      run.api.elsewhereRequests === 0
        ? []
        : [
            `${run.api.elsewhereRequests} request(s) reached the other origin (with the client's credentials)`,
          ],
  },
  {
    name: 'hostile API revokes tokens mid-night',
    injected: 'every token revoked after 3 page requests: 401 until a fresh one is asked for',
    expect: { kind: 'answer' },
    run: () => night({ kind: 'tokens-revoked', afterPageRequests: 3 }),
    faults,
    extraChecks: (run) => (run.api.tokensIssued.length > 1 ? [] : ['no fresh token was asked for']),
  },
  {
    name: 'hostile API sends invalid JSON',
    injected: 'sensors page 3 always has a trailing comma inside its last row',
    expect: { kind: 'failure', failure: /sensors page 3: .*row \d+ is not valid JSON/ },
    run: () => night({ kind: 'invalid-json', target: { dataset: 'sensors', page: 3 } }),
    faults,
  },
  {
    name: 'hostile API cuts bodies short',
    injected: 'the first answer to every page stops halfway, alternately ended cleanly and dropped',
    expect: { kind: 'answer' },
    run: () => night({ kind: 'truncated-first-answers' }),
    faults,
  },
  {
    name: 'hostile API sends a gzip bomb as a page',
    injected: 'sensors page 2’s first answer: 1 MiB of gzip that inflates to 1 GiB of JSON whitespace',
    expect: { kind: 'answer' },
    run: () =>
      night({ kind: 'gzip-bomb', where: 'page', target: { dataset: 'sensors', page: 2 }, inflatedMiB: 1024 }),
    faults,
    extraChecks: peakMemory,
  },
  {
    name: 'hostile API sends a gzip bomb as an error body',
    injected: 'sensors page 2’s first answer: a 503 whose gzip body inflates to 1 GiB',
    expect: { kind: 'answer' },
    run: () =>
      night({
        kind: 'gzip-bomb',
        where: 'error-body',
        target: { dataset: 'sensors', page: 2 },
        inflatedMiB: 1024,
      }),
    faults,
    extraChecks: peakMemory,
  },
  {
    name: 'hostile token endpoint sends a gzip bomb',
    injected: 'every token response: 1 MiB of gzip that inflates to 1 GiB',
    expect: { kind: 'failure', failure: /answered the token request with a body larger than 64 KiB/ },
    run: () =>
      night({
        kind: 'gzip-bomb',
        where: 'token',
        target: { dataset: 'sensors', page: 1 },
        inflatedMiB: 1024,
      }),
    faults,
    extraChecks: peakMemory,
  },
  {
    name: 'hostile API drips a page (slowloris)',
    injected:
      'sensors page 2’s first answer: headers, then one byte every 100 ms; requests time out after 2 s',
    expect: { kind: 'answer' },
    run: () =>
      night(
        { kind: 'slow-drip', target: { dataset: 'sensors', page: 2 }, intervalMs: 100 },
        { requestTimeoutMs: 2_000 },
      ),
    faults,
    extraChecks: (run) =>
      run.api.abandonedByClient > 0 ? [] : ['the client never gave up on the dripping answer'],
  },
  {
    name: 'hostile API answers 200 with an HTML page',
    injected: 'the first answer to every page: 200, text/html, a login page',
    expect: { kind: 'answer' },
    run: () => night({ kind: 'html-200', contentType: 'text/html; charset=utf-8' }),
    faults,
  },
  {
    name: 'hostile API answers 200 with an HTML page said to be JSON',
    injected: 'the first answer to every page: 200, application/json, a login page',
    // Not the API speaking, whatever its content type says: asked again, as under text/html (decision 98).
    expect: { kind: 'answer' },
    run: () => night({ kind: 'html-200', contentType: 'application/json' }),
    faults,
  },
];

describe('fault injection: a hostile fleet API in another process', () => {
  const recorder = new SuiteRecorder();

  // The control: the same server, well behaved, must give the night's answer under the same invariants, so that
  // each scenario below tests its fault and not the server.
  beforeAll(async () => {
    const calm = await night({ kind: 'well-behaved' });
    const report = await checkInvariants(calm, { kind: 'answer' }, baseline);
    if (report.violations.length > 0) {
      throw new Error(`the well-behaved hostile API's night is wrong: ${report.violations.join('; ')}`);
    }
    rmSync(calm.stateDir, { recursive: true, force: true });
  }, 150_000);

  afterAll(() => {
    recorder.summarise('hostile-api');
  });

  it.each(scenarios.map((s) => [s.name, s] as const))(
    '%s',
    async (_name, scenario) => {
      const result = await recorder.runScenario(scenario, baseline);
      expect(result.violations).toEqual([]);
    },
    150_000,
  );
});
