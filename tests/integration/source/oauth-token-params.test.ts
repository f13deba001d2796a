import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import { FleetApiSource } from '../../../services/adapters/http/fleet-api-source.js';
import { parseSourceConfig } from '../../../services/source-config/index.js';

/**
 * auth.tokenParams against a real OAuth 2.0 server (oidc-provider) with RFC 8707 resource indicators: the token is
 * issued for the resource the configuration names, and the fleet API (a server of this test's own) accepts only
 * tokens whose audience is that resource. Without the parameter the provider issues a token for no resource,
 * which the API refuses: the parameter is what makes the run work. Everything listens on 127.0.0.1.
 */

const RESOURCE = 'urn:fleet:api';
const CLIENT = { id: 'fleet-etl', secret: 'oidc-secret-0123456789' };
const DAY = { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', timeZone: 'UTC' };

function listen(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function urlOf(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not on a port');
  return `http://127.0.0.1:${address.port}`;
}

describe('auth.tokenParams with a real OAuth 2.0 server (oidc-provider, resource indicators)', () => {
  let oauth: Server;
  let api: Server;
  let provider: Provider;
  const refusals: string[] = [];

  beforeAll(async () => {
    // The provider's issuer is its own URL, so the server listens before the provider exists.
    let handle: (request: IncomingMessage, response: ServerResponse) => void = (_, response) =>
      response.end();
    oauth = await listen((request, response) => handle(request, response));
    provider = new Provider(urlOf(oauth), {
      clients: [
        {
          client_id: CLIENT.id,
          client_secret: CLIENT.secret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      features: {
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx, resource) => {
            if (resource !== RESOURCE) throw new errors.InvalidTarget();
            return { scope: 'read', audience: RESOURCE, accessTokenFormat: 'opaque', accessTokenTTL: 300 };
          },
        },
      },
    });
    handle = provider.callback();
    api = await listen(async (request, response) => {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const issued = await provider.ClientCredentials.find(token);
      if (issued?.aud !== RESOURCE) {
        refusals.push(issued === undefined ? 'unknown token' : `token for ${String(issued.aud)}`);
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      const data = [{ vehicle_id: 'V1', vehicle_type: 'van', created_at: '2026-11-24T10:00:00.000Z' }];
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data, page: 1, total_pages: 1 }));
    });
  });

  afterAll(async () => {
    for (const server of [api, oauth]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
  });

  const sourceWith = (tokenParams: Record<string, string> | undefined) =>
    new FleetApiSource({
      config: parseSourceConfig(
        {
          baseUrl: urlOf(api),
          auth: {
            tokenUrl: `${urlOf(oauth)}/token`,
            clientId: CLIENT.id,
            clientSecretName: 'oidc-secret',
            ...(tokenParams === undefined ? {} : { tokenParams }),
          },
          retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxElapsedMs: 0 },
          datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
        },
        'test',
      ),
      secrets: { get: async () => CLIENT.secret },
    });

  it('fetches a page with a token issued for the configured resource', async () => {
    const source = sourceWith({ resource: RESOURCE });
    const pages = await source.countPages({ dataset: 'vehicles', window: DAY, page: 1, pageSize: 10 });
    expect(pages).toBe(1);
    expect(source.stats()).toMatchObject({ tokenRequests: 1, retries: 0 });
  });

  it('is refused by the API without the resource parameter, the token being for no resource', async () => {
    refusals.length = 0;
    const source = sourceWith(undefined);
    await expect(
      source.countPages({ dataset: 'vehicles', window: DAY, page: 1, pageSize: 10 }),
    ).rejects.toThrow(/refused a freshly issued access token/);
    expect(refusals).toHaveLength(2);
    // The first 401 was answered with a fresh token and the page sent again: one retry, counted.
    expect(source.stats()).toMatchObject({
      retries: 1,
      transientFailures: { 'HTTP 401 (token refreshed)': 1 },
    });
  });
});
