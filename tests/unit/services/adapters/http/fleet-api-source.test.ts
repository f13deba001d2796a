import {
  FleetApiTerminalError,
  FleetApiTransientError,
} from '../../../../../services/adapters/http/errors.js';
import { FleetApiSource } from '../../../../../services/adapters/http/fleet-api-source.js';
import type { PageRequest } from '../../../../../services/ports/fleet-source.js';
import { parseSourceConfig, type SourceConfigFile } from '../../../../../services/source-config/index.js';
import { hugeBody, json, ManualTiming, type Reply, scriptedFetch, tokenReply } from './factories.js';

const row = {
  vehicle_id: 'V1',
  timestamp: 1_764_000_000_000,
  sensor_value: 1,
  created_at: '2026-11-24T10:00:00.000Z',
};
/** Page n as the last page (any number of rows), unless told otherwise: a consistent slice (pageInconsistency). */
const page = (n: number, rows: unknown[] = [row], totalPages = n) =>
  json(200, { page: n, total_pages: totalPages, data: rows });
const request: PageRequest = {
  dataset: 'sensors',
  window: { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', timeZone: 'UTC' },
  page: 2,
  pageSize: 100,
};

/** A body that sends its first part, then breaks like a dropped connection. */
const brokenBody = (first: string) =>
  new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(first));
        controller.error(Object.assign(new TypeError('terminated'), { cause: { code: 'ECONNRESET' } }));
      },
    }),
    { status: 200 },
  );

function setup(
  pages: Reply[],
  overrides: Partial<SourceConfigFile> = {},
  tokens: Reply[] = [tokenReply('t1'), tokenReply('t2')],
) {
  const timing = new ManualTiming();
  const fetch = scriptedFetch({ '/oauth/token': tokens, '/v1/sensors': pages }, timing);
  const config = parseSourceConfig(
    {
      baseUrl: 'https://fleet.example.com',
      auth: { tokenUrl: '/oauth/token', clientId: 'etl', clientSecretName: 'fleet/secret' },
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 60_000 },
      datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
      ...overrides,
    },
    'test',
  );
  const source = new FleetApiSource({
    config,
    secrets: { get: async () => 'secret' },
    timing,
    fetch,
    random: () => 0.5,
  });
  const pageRequests = () => fetch.requests.filter((r) => r.url.includes('/v1/sensors'));
  return { source, fetch, timing, pageRequests };
}

/** A sink that keeps what it was given, and how many times it was called. */
function memorySink() {
  const calls: string[] = [];
  const sink = async (ndjson: AsyncIterable<Uint8Array>) => {
    const index = calls.push('') - 1;
    for await (const chunk of ndjson) calls[index] += Buffer.from(chunk).toString();
    return calls[index];
  };
  return { sink, calls };
}

describe('FleetApiSource retries', () => {
  it('waits the Retry-After seconds before asking again, never less', async () => {
    const { source, pageRequests } = setup([
      json(429, { error: 'slow_down' }, { 'retry-after': '3' }),
      page(2),
    ]);
    const { sink } = memorySink();

    const fetched = await source.fetchPage(request, sink);

    expect(fetched).toMatchObject({ totalPages: 2, rows: 1, rejected: [] });
    const [first, second] = pageRequests();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(3_000);
    expect(source.stats()).toMatchObject({ retries: 1, transientFailures: { 'HTTP 429': 1 } });
  });

  it('waits until a Retry-After date', async () => {
    const { source, timing, pageRequests } = setup([
      () => json(503, {}, { 'retry-after': new Date(timing.now() + 7_000).toUTCString() }),
      page(2),
    ]);

    await source.fetchPage(request, memorySink().sink);

    const [first, second] = pageRequests();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(6_000);
  });

  it('backs off exponentially with jitter when the API gives no Retry-After', async () => {
    const { source, pageRequests } = setup([
      json(500, {}),
      json(502, {}),
      new TypeError('fetch failed'),
      page(2),
    ]);

    await source.fetchPage(request, memorySink().sink);

    const times = pageRequests().map((r) => r.at);
    // random() = 0.5 of ceilings 100, 200, 400 ms.
    expect(times.slice(1).map((t, i) => t - (times[i] ?? 0))).toEqual([50, 100, 200]);
  });

  it('gives up after maxAttempts with a transient error that names the page', async () => {
    const { source, pageRequests } = setup([json(503, { error: 'down' })]);

    const error: unknown = await source.fetchPage(request, memorySink().sink).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTransientError);
    expect(String(error)).toMatch(/gave up on sensors page 2 after 4 attempts; last: .*HTTP 503/);
    expect(pageRequests()).toHaveLength(4);
  });

  it('gives up at once when Retry-After is beyond the retry budget, and a later call still honours it', async () => {
    const { source, timing, pageRequests } = setup([json(429, {}, { 'retry-after': '120' }), page(2)], {
      retry: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 10_000 },
    });

    const error: unknown = await source.fetchPage(request, memorySink().sink).catch((e: unknown) => e);
    const givenUpAt = timing.now();
    await source.fetchPage(request, memorySink().sink);

    expect(String(error)).toMatch(/retry budget/);
    expect(pageRequests()).toHaveLength(2);
    expect((pageRequests()[1]?.at ?? 0) - givenUpAt).toBeGreaterThanOrEqual(120_000);
  });

  it('fails the page at once, naming the wait, when Retry-After is longer than it may wait (a day, say)', async () => {
    const { source, timing, pageRequests } = setup([json(429, {}, { 'retry-after': '86400' }), page(2)]);

    const startedAt = timing.now();
    const error: unknown = await source.fetchPage(request, memorySink().sink).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toMatch(
      /asked to wait 86400 s before asking for sensors page 2 again \(Retry-After\), longer than the 900 s fleet-etl waits \(retry\.maxRetryAfterMs/,
    );
    expect(pageRequests()).toHaveLength(1);
    expect(timing.now() - startedAt).toBe(0);
  });

  it('does not ask again, when the task comes back, an API that asked for a longer wait than it may take', async () => {
    const { source, timing, pageRequests } = setup([json(429, {}, { 'retry-after': '86400' }), page(2)]);

    await source.fetchPage(request, memorySink().sink).catch(() => undefined);
    timing.advance(3_600_000);
    const redelivered: unknown = await source.fetchPage(request, memorySink().sink).catch((e: unknown) => e);

    expect(redelivered).toBeInstanceOf(FleetApiTerminalError);
    expect(String(redelivered)).toMatch(
      /asked to wait until 2026-11-26T01:00:00\.000Z \(82800 s from now\) before asking for sensors page 2 again \(Retry-After\), longer than the 900 s fleet-etl waits/,
    );
    expect(pageRequests()).toHaveLength(1);
  });

  it('refuses a total_pages above the dataset’s maxPages before planning a page of it', async () => {
    const { source } = setup([page(1, [row], 1_000_000_000)], {
      datasets: {
        vehicles: { endpoint: '/v1/vehicles' },
        sensors: { endpoint: '/v1/sensors', maxPages: 500 },
      },
    });

    const error: unknown = await source
      .countPages({ ...request, page: 1, pageSize: 1 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toMatch(
      /invalid sensors page 1: total_pages is 1000000000, more than the 500 pages a night may plan \(maxPages/,
    );
  });

  it('refuses a plan of more rows than the dataset’s maxRows, by total_pages × the page size', async () => {
    // 50 pages are within maxPages (default 100,000); 50 × 50,000 rows are not within maxRows.
    const { source } = setup([page(1, [row], 50)], {
      datasets: {
        vehicles: { endpoint: '/v1/vehicles' },
        sensors: { endpoint: '/v1/sensors', maxRows: 2_000_000 },
      },
    });

    const error: unknown = await source
      .countPages({ ...request, page: 1, pageSize: 50_000 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toMatch(
      /invalid sensors page 1: total_pages 50 × 50,000 rows a page is up to 2,500,000 rows, more than the 2,000,000 rows a night may plan \(maxRows in the source configuration/,
    );
    // At the limit, the plan stands: one page of up to 50,000 rows.
    const { source: within } = setup([page(1, [row], 1)], {
      datasets: {
        vehicles: { endpoint: '/v1/vehicles' },
        sensors: { endpoint: '/v1/sensors', maxRows: 50_000 },
      },
    });
    await expect(within.countPages({ ...request, page: 1, pageSize: 50_000 })).resolves.toBe(1);
  });

  it('refuses a plan of more rows than maxRows by the API’s own count of rows, when it gives one', async () => {
    const { source } = setup([json(200, { meta: { count: 1_000_001 }, items: [row] })], {
      datasets: {
        vehicles: { endpoint: '/v1/vehicles' },
        sensors: {
          endpoint: '/v1/sensors',
          maxRows: 1_000_000,
          response: { rowsPath: 'items', totalPagesPath: null, totalItemsPath: 'meta.count' },
        },
      },
    });

    const error: unknown = await source
      .countPages({ ...request, page: 1, pageSize: 50_000 })
      .catch((e: unknown) => e);

    expect(String(error)).toMatch(
      /invalid sensors page 1: meta\.count is 1,000,001 rows, more than the 1,000,000 rows a night may plan \(maxRows/,
    );
  });

  it('refuses a page whose rows contradict its total_pages, without storing it', async () => {
    const { source } = setup([page(1, [row], 0)]);
    const { sink, calls } = memorySink();

    const error: unknown = await source.fetchPage({ ...request, page: 1 }, sink).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toMatch(/invalid sensors page 1: total_pages is 0, yet page 1 has 1 row\(s\)/);
    // The sink was called once and its input failed at its end: a store, which commits only a whole input, keeps nothing.
    expect(calls).toHaveLength(1);
  });

  it('reads no more of an error answer’s body than a reason needs (a gzip bomb behind a 503)', async () => {
    const bomb = hugeBody(503);
    const { source, pageRequests } = setup([bomb.response, page(2)]);

    const fetched = await source.fetchPage(request, memorySink().sink);

    expect(fetched.rows).toBe(1);
    expect(pageRequests()).toHaveLength(2);
    expect(bomb.pulled()).toBeLessThanOrEqual(2);
  });

  it('does not retry what cannot heal: a 4xx, a body that is not JSON', async () => {
    for (const reply of [
      json(400, { error: 'invalid_request', parameter: 'pageSize' }),
      json(200, '{"page":2,"total_pages":2,"data":[{vehicle_id:"V1"}]}'),
    ]) {
      const { source, pageRequests } = setup([reply, page(2)]);
      const error: unknown = await source.fetchPage(request, memorySink().sink).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FleetApiTerminalError);
      expect(String(error)).toContain('sensors page 2');
      expect(pageRequests()).toHaveLength(1);
    }
  });

  it('retries markup under a JSON content type (a proxy’s page, a login wall), and fails naming it when it stays', async () => {
    const healed = setup([json(200, '<!doctype html><h1>Sign in</h1>'), page(2)]);
    expect((await healed.source.fetchPage(request, memorySink().sink)).rows).toBe(1);
    expect(healed.pageRequests()).toHaveLength(2);
    expect(healed.source.stats().transientFailures).toEqual({ 'content-type': 1 });

    const walled = setup(Array.from({ length: 10 }, () => json(200, '<html>Sign in</html>')));
    const error: unknown = await walled.source.fetchPage(request, memorySink().sink).catch((e: unknown) => e);
    expect(String(error)).toMatch(/sensors page 2 with markup \(the body starts with "<"\), not JSON/);
    expect(walled.pageRequests().length).toBeGreaterThan(1);
  });

  it('retries a body cut short, cleanly ended or dropped, and gives the sink a fresh start each time', async () => {
    const { source, pageRequests } = setup([
      json(200, '{"page":2,"total_pages":2,"data":[{"vehicle_id":"V1","tim'),
      () => brokenBody('{"page":2,"total_pages":2,"data":['),
      page(2, [row, row]),
    ]);
    const { sink, calls } = memorySink();

    const fetched = await source.fetchPage(request, sink);

    expect(pageRequests()).toHaveLength(3);
    expect(calls).toHaveLength(3);
    expect(fetched.stored).toBe(`${JSON.stringify(row)}\n${JSON.stringify(row)}\n`);
    expect(source.stats().transientFailures).toEqual({ truncated: 1, network: 1 });
  });

  it('does not retry a failing sink: the store’s error goes back to the queue as it is', async () => {
    const { source, pageRequests } = setup([page(2)]);
    const storeDown = new Error('disk full');

    await expect(
      source.fetchPage(request, async (ndjson) => {
        for await (const _ of ndjson) throw storeDown;
      }),
    ).rejects.toBe(storeDown);
    expect(pageRequests()).toHaveLength(1);
  });
});

describe('FleetApiSource rows outside the window', () => {
  const at = (createdAt: string) => ({ ...row, created_at: createdAt });
  const mixed = [row, at('2026-11-25T06:00:00.000Z'), row, at('2026-11-23T01:00:00.000Z')];

  it('fails a page with rows created outside the window asked for, naming how many, one of them and the window', async () => {
    const { source, pageRequests } = setup([page(2, mixed, 2), page(2)]);
    const { sink, calls } = memorySink();

    const error: unknown = await source.fetchPage(request, sink).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toMatch(
      /invalid sensors page 2: 2 row\(s\) created outside the window asked for \(2026-11-24T00:00:00\.000Z to 2026-11-25T00:00:00\.000Z\), e\.g\. one created at 2026-11-25T06:00:00\.000Z: does the API ignore the date filters \(fromCreationDate, toCreationDate\)\? .*checks\.rowsOutsideWindow: "warn"/,
    );
    expect(pageRequests()).toHaveLength(1);
    // The sink's input failed at its end: a store, which commits only a whole input, keeps nothing.
    expect(calls).toHaveLength(1);
  });

  it('refuses them when planning, from page 1, before a page of the night is asked for (schemas unchecked)', async () => {
    const { source } = setup([page(1, [{ anything: true }, ...mixed], 3)]);

    const error: unknown = await source
      .countPages({ ...request, page: 1, pageSize: 5 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toMatch(/invalid sensors page 1: 2 row\(s\) created outside the window asked for/);
  });

  it('leaves them out, counted, when the dataset’s checks.rowsOutsideWindow is "warn"', async () => {
    const { source } = setup([page(2, mixed, 2)], {
      datasets: {
        vehicles: { endpoint: '/v1/vehicles' },
        sensors: { endpoint: '/v1/sensors', checks: { rowsOutsideWindow: 'warn' } },
      },
    });

    const fetched = await source.fetchPage(request, memorySink().sink);

    expect({ rows: fetched.rows, outsideWindow: fetched.outsideWindow }).toEqual({
      rows: 2,
      outsideWindow: 2,
    });
  });

  it('leaves out, without failing, the rows of a neighbouring night that a coarse filter was asked for', async () => {
    const { source } = setup([page(2, [row, at('2026-11-25T00:00:00.500Z')], 2)], {
      dateFilter: { format: 'iso-seconds', fromInclusive: true, toInclusive: true },
    });

    const fetched = await source.fetchPage(request, memorySink().sink);

    expect({ rows: fetched.rows, outsideWindow: fetched.outsideWindow }).toEqual({
      rows: 1,
      outsideWindow: 1,
    });
  });

  it('keeps every row of a snapshot, whenever it was created', async () => {
    const { source } = setup([page(2, mixed, 2)]);

    const fetched = await source.fetchPage({ ...request, fullSnapshot: true }, memorySink().sink);

    expect({ rows: fetched.rows, outsideWindow: fetched.outsideWindow }).toEqual({
      rows: 4,
      outsideWindow: 0,
    });
  });
});

describe('FleetApiSource tokens and requests', () => {
  it('refreshes a refused token once, with one token request for many concurrent pages, then retries once', async () => {
    const { source, fetch } = setup(
      [json(401, { error: 'invalid_token' }), json(401, {}), json(401, {}), page(2), page(2), page(2)],
      {},
      [tokenReply('t1'), tokenReply('t2'), tokenReply('t3')],
    );

    await Promise.all([1, 2, 3].map(() => source.fetchPage(request, memorySink().sink)));

    const tokenRequests = fetch.requests.filter((r) => r.url.endsWith('/oauth/token'));
    expect(tokenRequests).toHaveLength(2);
    expect(fetch.requests.filter((r) => r.headers.authorization === 'Bearer t2')).toHaveLength(3);
    // Each page was sent again with the fresh token: three retries, and the statistics say so.
    expect(source.stats()).toMatchObject({
      pageRequests: 6,
      retries: 3,
      transientFailures: { 'HTTP 401 (token refreshed)': 3 },
    });
  });

  it('sends extra token parameters in the token request, and static and secret headers with every page', async () => {
    const { source, fetch, pageRequests } = setup([page(2)], {
      auth: {
        tokenUrl: '/oauth/token',
        clientId: 'etl',
        clientSecretName: 'fleet/secret',
        tokenParams: { audience: 'https://fleet.example.com/api', resource: 'urn:fleet' },
      },
      headers: { 'x-tenant': 'acme', 'x-api-key': { secretName: 'fleet/api-key' } },
    });

    await source.fetchPage(request, memorySink().sink);

    const form = new URLSearchParams(fetch.requests.find((r) => r.url.endsWith('/oauth/token'))?.body ?? '');
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials',
      audience: 'https://fleet.example.com/api',
      resource: 'urn:fleet',
    });
    // setup's Secrets answers 'secret' to every name.
    expect(pageRequests()[0]?.headers).toMatchObject({
      'x-tenant': 'acme',
      'x-api-key': 'secret',
      authorization: 'Bearer t1',
    });
  });

  it('sends the configured parameter names, an inclusive whole-second `to` rounded up to the next night’s first second, and fixed parameters', async () => {
    const { source, pageRequests } = setup([page(2)], {
      query: {
        from: 'start',
        to: 'end',
        timeZone: null,
        pageSize: 'limit',
        page: 'p',
        fixed: { format: 'json' },
      },
      dateFilter: { format: 'iso-seconds', toInclusive: true },
    });

    await source.fetchPage(request, memorySink().sink);

    const url = new URL(pageRequests()[0]?.url ?? '');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      format: 'json',
      start: '2026-11-24T00:00:00Z',
      end: '2026-11-25T00:00:00Z',
      limit: '100',
      p: '2',
    });
  });

  it('counts pages for the planner without checking rows', async () => {
    const { source } = setup([page(1, [{ anything: true }], 42)]);
    await expect(source.countPages({ ...request, page: 1, pageSize: 1 })).resolves.toBe(42);
  });

  it('windows nights in the configured time zone', () => {
    const { source } = setup([], { window: { timeZone: 'Europe/Madrid' } });
    expect(source.windowFor(new Date('2026-11-25T01:00:00.000Z'))).toEqual({
      from: '2026-11-23T23:00:00.000Z',
      to: '2026-11-24T23:00:00.000Z',
      timeZone: 'Europe/Madrid',
    });
  });
});
