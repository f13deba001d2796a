import {
  ClientCredentialsTokens,
  refreshMarginMs,
} from '../../../../../services/adapters/http/client-credentials.js';
import {
  FleetApiTerminalError,
  FleetApiTransientError,
} from '../../../../../services/adapters/http/errors.js';
import { RequestBudget } from '../../../../../services/adapters/http/request-budget.js';
import type { AuthConfig } from '../../../../../services/source-config/index.js';
import { hugeBody, json, ManualTiming, scriptedFetch, tokenReply } from './factories.js';

const auth: AuthConfig = {
  type: 'oauth2-client-credentials',
  tokenUrl: 'https://auth.example.com/oauth/token',
  clientId: 'fleet etl',
  clientSecretName: 'fleet-api/client-secret',
  credentialsIn: 'basic-header',
};
const SECRET = 's3cr3t:with&symbols';

function tokens(replies: Parameters<typeof scriptedFetch>[0]['x'], overrides: Partial<AuthConfig> = {}) {
  const timing = new ManualTiming();
  const fetch = scriptedFetch({ '/oauth/token': replies }, timing);
  const secretReads: string[] = [];
  const source = new ClientCredentialsTokens({
    auth: { ...auth, ...overrides },
    secret: async (name) => {
      secretReads.push(name);
      return SECRET;
    },
    budget: new RequestBudget({ maxConcurrentRequests: 4, requestsPerSecond: 100 }, timing),
    timing,
    timeoutMs: 1_000,
    fetch,
  });
  return { source, fetch, timing, secretReads };
}

describe('client credentials tokens', () => {
  it('asks once for many concurrent callers (single flight)', async () => {
    const { source, fetch } = tokens([tokenReply('t1')]);

    const got = await Promise.all(Array.from({ length: 20 }, () => source.current()));

    expect(new Set(got)).toEqual(new Set(['t1']));
    expect(fetch.requests).toHaveLength(1);
    expect(source.requests).toBe(1);
  });

  it('sends the client credentials as HTTP Basic, form-encoded, and reads the secret by name', async () => {
    const { source, fetch, secretReads } = tokens([tokenReply()], { scope: 'fleet.read' });

    await source.current();

    const [request] = fetch.requests;
    expect(request?.method).toBe('POST');
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`fleet+etl:${encodeURIComponent(SECRET)}`).toString('base64')}`,
    );
    expect(new URLSearchParams(request?.body)).toEqual(
      new URLSearchParams({ grant_type: 'client_credentials', scope: 'fleet.read' }),
    );
    expect(secretReads).toEqual(['fleet-api/client-secret']);
  });

  it('can send them in the form body instead', async () => {
    const { source, fetch } = tokens([tokenReply()], { credentialsIn: 'form-body' });
    await source.current();
    expect(fetch.requests[0]?.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(fetch.requests[0]?.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'fleet etl',
      client_secret: SECRET,
    });
  });

  it('keeps a token until shortly before it expires, then asks once again', async () => {
    const { source, fetch, timing } = tokens([tokenReply('t1', 3600), tokenReply('t2', 3600)]);

    await source.current();
    timing.advance(3_600_000 - 60_001);
    const stillFirst = await source.current();
    timing.advance(2);
    const [second, again] = await Promise.all([source.current(), source.current()]);

    expect(stillFirst).toBe('t1');
    expect([second, again]).toEqual(['t2', 't2']);
    expect(fetch.requests).toHaveLength(2);
  });

  it('refreshes short-lived tokens a tenth of their life early, not on every call', async () => {
    expect(refreshMarginMs(5_000)).toBe(500);
    expect(refreshMarginMs(3_600_000)).toBe(60_000);
    const { source, fetch, timing } = tokens([tokenReply('t1', 5), tokenReply('t2', 5)]);
    await source.current();
    timing.advance(4_400);
    await source.current();
    expect(fetch.requests).toHaveLength(1);
    timing.advance(200);
    expect(await source.current()).toBe('t2');
  });

  it('forgets a refused token, but not one another caller already replaced', async () => {
    const { source, fetch } = tokens([tokenReply('t1'), tokenReply('t2'), tokenReply('t3')]);
    await source.current();
    source.invalidate('t1');
    expect(await source.current()).toBe('t2');
    source.invalidate('t1');
    expect(await source.current()).toBe('t2');
    expect(fetch.requests).toHaveLength(2);
  });

  it('shares one failure among concurrent callers, and asks afresh on the next call', async () => {
    const { source, fetch } = tokens([json(503, { error: 'temporarily_unavailable' }), tokenReply('t2')]);

    const failures = await Promise.all(
      [source.current(), source.current()].map((p) => p.catch((e: unknown) => e)),
    );
    const next = await source.current();

    expect(failures[0]).toBeInstanceOf(FleetApiTransientError);
    expect(failures[1]).toBe(failures[0]);
    expect(next).toBe('t2');
    expect(fetch.requests).toHaveLength(2);
  });

  it('refuses a token response that is not a bearer token, without quoting it', async () => {
    const { source } = tokens([json(200, { access_token: 'leaky', token_type: 'mac' })]);
    const error: unknown = await source.current().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toContain('token_type');
    expect(String(error)).not.toContain('leaky');
  });

  it('refuses a token response larger than a token response can be, without reading it whole', async () => {
    const bomb = hugeBody(200);
    const { source } = tokens([bomb.response]);

    const error: unknown = await source.current().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toMatch(/fleet API answered the token request with a body larger than 64 KiB/);
    expect(bomb.pulled()).toBeLessThanOrEqual(2);
  });

  it('never repeats the secret, even when the server echoes it', async () => {
    const { source } = tokens([json(401, { error: 'invalid_client', error_description: `bad ${SECRET}` })]);
    const error: unknown = await source.current().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).not.toContain(SECRET);
    expect(String(error)).toContain('[redacted]');
  });
});
