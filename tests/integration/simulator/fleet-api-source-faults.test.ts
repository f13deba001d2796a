import {
  FleetApiTerminalError,
  FleetApiTransientError,
} from '../../../services/adapters/http/fleet-api-source.js';
import { TerminalError, TransientError } from '../../../services/shared/errors.js';
import {
  CLIENT_SECRET,
  collectPage,
  fleetSource,
  json,
  pageRequest,
  type StubApi,
  type StubHandler,
  startStubApi,
} from './factories.js';

const validRow = {
  vehicle_id: 'V000001',
  timestamp: 1_772_500_000_000,
  sensor_value: 1.5,
  created_at: '2026-03-03T01:00:00.000Z',
};

describe('FleetApiSource when the API misbehaves', () => {
  const stubs: StubApi[] = [];
  const stub = async (pages: StubHandler, token?: StubHandler) => {
    const started = await startStubApi(pages, token);
    stubs.push(started);
    return started;
  };

  afterAll(async () => {
    await Promise.all(stubs.map((s) => s.close()));
  });

  async function failureOf(pages: StubHandler, token?: StubHandler, page = 2): Promise<Error> {
    const api = await stub(pages, token);
    const error: unknown = await collectPage(
      fleetSource(api.url, { requestTimeoutMs: 500 }),
      pageRequest({ page }),
    ).catch((e: unknown) => e);
    if (!(error instanceof Error)) throw new Error('expected fetchPage to fail');
    return error;
  }

  it.each([429, 500, 502, 503])('treats HTTP %i as transient and says which page', async (status) => {
    const error = await failureOf(json(status, { error: 'busy' }));

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ status });
    expect(error.message).toMatch(new RegExp(`sensors page 2.*${status}`));
  });

  it('passes Retry-After on', async () => {
    const error = await failureOf(json(429, { error: 'slow_down' }, { 'retry-after': '7' }));

    expect(error).toBeInstanceOf(FleetApiTransientError);
    expect(error).toMatchObject({ retryAfterMs: 7000, message: expect.stringContaining('retry after 7 s') });
  });

  it.each([400, 403, 404, 422])('treats HTTP %i as terminal', async (status) => {
    const error = await failureOf(json(status, { error: 'nope', message: 'not for you' }));

    expect(error).toBeInstanceOf(TerminalError);
    expect(error.message).toContain('sensors page 2');
    expect(error.message).toContain('not for you');
  });

  it('fails terminally on a body that is not JSON', async () => {
    // Not markup (a body starting with "<" is a proxy's page, asked again: decision 98), just not JSON.
    const error = await failureOf(json(200, 'upstream connect error or disconnect/reset before headers'));

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(error.message).toMatch(/sensors page 2: the body is not valid JSON/);
  });

  it('fails terminally on an envelope without total_pages, naming the field', async () => {
    const error = await failureOf(json(200, { page: 2, data: [] }));

    expect(error).toBeInstanceOf(TerminalError);
    expect(error.message).toContain('total_pages');
  });

  it('fails terminally on a bad row, naming its index and field', async () => {
    const error = await failureOf(
      json(200, { page: 2, total_pages: 2, data: [validRow, { ...validRow, created_at: 'yesterday' }] }),
    );

    expect(error).toBeInstanceOf(TerminalError);
    expect(error.message).toMatch(/sensors page 2.*row 1.*created_at/);
  });

  it('fails terminally when the API answers another page', async () => {
    const error = await failureOf(json(200, { page: 1, total_pages: 3, data: [validRow] }));

    expect(error).toBeInstanceOf(TerminalError);
    expect(error.message).toContain('answered page 1 instead');
  });

  it('treats an unreachable API as transient', async () => {
    const api = await stub(json(200, {}));
    await api.close();

    const error: unknown = await collectPage(fleetSource(api.url), pageRequest()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientError);
    expect(String(error)).toContain('unreachable');
  });

  it('treats a response that never comes as a transient timeout', async () => {
    const error = await failureOf(() => {
      // Never answers: the client's timeout must fire.
    });

    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain('timed out after 500 ms');
  });

  it('gives up terminally when a freshly issued token is refused too', async () => {
    const api = await stub(json(401, { error: 'invalid_token' }));

    const error: unknown = await collectPage(fleetSource(api.url), pageRequest()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TerminalError);
    expect(api.tokenRequests).toBe(2);
    expect(api.pageRequests).toBe(2);
  });

  it('treats a failing token endpoint as transient', async () => {
    const error = await failureOf(json(200, {}), json(503, { error: 'temporarily_unavailable' }));

    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain('token request');
  });

  it('never repeats the client secret or the token, even when the API echoes them', async () => {
    const echoSecret = json(400, {
      error: 'invalid_request',
      error_description: `bad secret ${CLIENT_SECRET}`,
    });
    const echoToken: StubHandler = (request, response) =>
      json(403, { error: 'forbidden', message: `token ${request.headers.authorization} is not allowed` })(
        request,
        response,
      );

    const tokenError = await failureOf(json(200, {}), echoSecret);
    const pageError = await failureOf(echoToken);

    expect(tokenError.message).not.toContain(CLIENT_SECRET);
    expect(tokenError.message).toContain('[redacted]');
    expect(pageError.message).not.toContain('stub-token-1');
  });
});
