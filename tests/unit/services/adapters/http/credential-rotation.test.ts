import { ClientCredentialsTokens } from '../../../../../services/adapters/http/client-credentials.js';
import { RequestBudget } from '../../../../../services/adapters/http/request-budget.js';
import type { AuthConfig } from '../../../../../services/source-config/index.js';
import { json, ManualTiming, scriptedFetch, tokenReply } from './factories.js';

const auth: AuthConfig = {
  type: 'oauth2-client-credentials',
  tokenUrl: 'https://auth.example.com/oauth/token',
  clientId: 'fleet-etl',
  clientSecretName: 'fleet-api/client-secret',
  credentialsIn: 'form-body',
};

/** A secret store with a cache, as SecretsManagerSecrets is: `forget` makes the next read see the store. */
function cachedStore(stored: { value: string }) {
  let cached: string | undefined;
  const calls = { forgets: 0 };
  return {
    calls,
    get: async () => {
      cached ??= stored.value;
      return cached;
    },
    forget: () => {
      calls.forgets += 1;
      cached = undefined;
    },
  };
}

function tokensWith(
  store: ReturnType<typeof cachedStore>,
  replies: Parameters<typeof scriptedFetch>[0]['x'],
) {
  const timing = new ManualTiming();
  const fetch = scriptedFetch({ '/oauth/token': replies }, timing);
  const tokens = new ClientCredentialsTokens({
    auth,
    secret: () => store.get(),
    forgetSecret: () => store.forget(),
    budget: new RequestBudget({ maxConcurrentRequests: 4, requestsPerSecond: 100 }, timing),
    timing,
    timeoutMs: 1_000,
    fetch,
  });
  return { tokens, fetch };
}

const invalidClient = () => json(401, { error: 'invalid_client' });
const secretSent = (body: string | undefined) => new URLSearchParams(body).get('client_secret');

describe('client credentials after a rotation of the client secret', () => {
  it('drops the cached secret when the token endpoint refuses it, and asks again with the rotated one', async () => {
    // Prepare: the store cached the old secret; the provider and the store have moved on.
    const stored = { value: 'old-secret' };
    const store = cachedStore(stored);
    await store.get();
    stored.value = 'new-secret';
    const { tokens, fetch } = tokensWith(store, [invalidClient(), tokenReply('t-new')]);

    // Act
    const token = await tokens.current();

    // Assess
    expect(token).toBe('t-new');
    expect(store.calls.forgets).toBe(1);
    expect(fetch.requests.map((r) => secretSent(r.body))).toEqual(['old-secret', 'new-secret']);
  });

  it('fails terminally, without asking again, when the store still holds the refused secret', async () => {
    const store = cachedStore({ value: 'wrong-secret' });
    const { tokens, fetch } = tokensWith(store, [invalidClient(), tokenReply()]);

    const failure = await tokens.current().catch((error: unknown) => error);

    expect(failure).toMatchObject({ name: 'FleetApiTerminalError', status: 401 });
    expect(String((failure as Error).message)).not.toContain('wrong-secret');
    expect(fetch.requests).toHaveLength(1);
  });
});
