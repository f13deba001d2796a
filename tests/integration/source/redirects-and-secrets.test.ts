import type { IncomingMessage, ServerResponse } from 'node:http';
import { FleetApiTerminalError } from '../../../services/adapters/http/errors.js';
import { FleetApiSource } from '../../../services/adapters/http/fleet-api-source.js';
import type { PageRequest } from '../../../services/ports/fleet-source.js';
import { parseSourceConfig } from '../../../services/source-config/index.js';
import { type LoopbackServer, sendJson, serveOnLoopback } from '../../helpers/json-api.js';

const CLIENT_SECRET = 'client secret/with+signs=';
const HEADER_SECRET = 'x-api-key-value-42';

const request: PageRequest = {
  dataset: 'sensors',
  window: { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', timeZone: 'UTC' },
  page: 1,
  pageSize: 10,
};

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback server that records every request it gets (with its body) and answers with `handle`. */
async function recordingServer(
  handle: (seen: Seen, response: ServerResponse) => void,
): Promise<LoopbackServer & { seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await serveOnLoopback((incoming, response) => {
    let body = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => {
      body += chunk;
    });
    incoming.on('end', () => {
      const entry = {
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        body,
      };
      seen.push(entry);
      handle(entry, response);
    });
  });
  return Object.assign(server, { seen });
}

function sourceAt(api: string, options: { credentialsIn: 'basic-header' | 'form-body' }) {
  const config = parseSourceConfig(
    {
      baseUrl: api,
      auth: { tokenUrl: '/oauth/token', clientId: 'etl', clientSecretName: 'client', ...options },
      headers: { 'x-api-key': { secretName: 'header' } },
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxElapsedMs: 1_000 },
      datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
    },
    'test',
  );
  const secrets = { client: CLIENT_SECRET, header: HEADER_SECRET } as Record<string, string>;
  return new FleetApiSource({
    config,
    secrets: { get: async (name) => secrets[name] ?? '' },
  });
}

const drain = async (ndjson: AsyncIterable<Uint8Array>) => {
  for await (const _ of ndjson) {
    // dropped
  }
};

const servers: LoopbackServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

async function elsewhere() {
  const server = await recordingServer((_seen, response) => sendJson(response, 200, {}));
  servers.push(server);
  return server;
}

describe('redirects, against real servers in this process', () => {
  it('does not follow a token endpoint’s 307 to another origin, so the client secret in the form body stays home', async () => {
    const other = await elsewhere();
    const api = await recordingServer((_seen, response) => {
      response.writeHead(307, { location: `${other.url}/steal` });
      response.end();
    });
    servers.push(api);

    const error: unknown = await sourceAt(api.url, { credentialsIn: 'form-body' })
      .fetchPage(request, drain)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(String(error)).toContain(
      `the token request (HTTP 307) to another origin, ${other.url}; not followed`,
    );
    expect(other.seen).toEqual([]);
    // It was sent once, to the token endpoint the configuration names.
    expect(api.seen.map((s) => [s.method, s.url])).toEqual([['POST', '/oauth/token']]);
    expect(api.seen[0]?.body).toContain('client_secret=');
  });

  it('does not follow a page’s redirect to another origin, so a secret header stays home', async () => {
    const other = await elsewhere();
    const api = await recordingServer((seen, response) => {
      if (seen.url.startsWith('/oauth/token')) {
        sendJson(response, 200, { access_token: 'tok', token_type: 'Bearer', expires_in: 60 });
        return;
      }
      response.writeHead(302, { location: `${other.url}/v1/sensors` });
      response.end();
    });
    servers.push(api);

    const error: unknown = await sourceAt(api.url, { credentialsIn: 'basic-header' })
      .fetchPage(request, drain)
      .catch((e: unknown) => e);

    expect(String(error)).toContain(`sensors page 1 (HTTP 302) to another origin, ${other.url}`);
    expect(other.seen).toEqual([]);
  });

  it('follows redirects within the API’s origin, the token request’s body sent again on a 307', async () => {
    const api = await recordingServer((seen, response) => {
      if (seen.url === '/oauth/token') {
        response.writeHead(307, { location: '/oauth/v2/token' });
        response.end();
      } else if (seen.url === '/oauth/v2/token') {
        sendJson(response, 200, { access_token: 'tok', token_type: 'Bearer', expires_in: 60 });
      } else if (seen.url.startsWith('/v1/sensors')) {
        response.writeHead(301, { location: seen.url.replace('/v1/', '/v2/') });
        response.end();
      } else {
        sendJson(response, 200, { page: 1, total_pages: 1, data: [] });
      }
    });
    servers.push(api);

    const fetched = await sourceAt(api.url, { credentialsIn: 'form-body' }).fetchPage(request, drain);

    expect(fetched).toMatchObject({ totalPages: 1, rows: 0 });
    const token = api.seen.find((s) => s.url === '/oauth/v2/token');
    expect(token?.method).toBe('POST');
    expect(token?.body).toContain('grant_type=client_credentials');
    const page = api.seen.find((s) => s.url.startsWith('/v2/sensors'));
    expect(page?.headers['x-api-key']).toBe(HEADER_SECRET);
    expect(page?.headers.authorization).toBe('Bearer tok');
  });
});

describe('secrets an API echoes back, in the forms they travel in', () => {
  it('scrubs the client secret from a token error, raw, form-encoded, percent-encoded or base64-encoded', async () => {
    const encodedForms = [
      CLIENT_SECRET,
      encodeURIComponent(CLIENT_SECRET),
      encodeURIComponent(CLIENT_SECRET).replace(/%20/g, '+'),
      Buffer.from(CLIENT_SECRET).toString('base64'),
    ];
    const api = await recordingServer((seen, response) => {
      sendJson(response, 400, {
        error: 'invalid_client',
        error_description: `you sent ${encodedForms.join(' and ')} and ${seen.headers.authorization ?? ''}`,
      });
    });
    servers.push(api);

    const message = String(
      await sourceAt(api.url, { credentialsIn: 'basic-header' })
        .fetchPage(request, drain)
        .catch((e: unknown) => e),
    );

    expect(message).toContain('invalid_client');
    for (const form of encodedForms) expect(message).not.toContain(form);
    const basic = (api.seen[0]?.headers.authorization ?? '').replace('Basic ', '');
    expect(basic).not.toBe('');
    expect(message).not.toContain(basic);
  });

  it('scrubs a secret header’s value and the access token from a page error', async () => {
    const api = await recordingServer((seen, response) => {
      if (seen.url.startsWith('/oauth/token')) {
        sendJson(response, 200, { access_token: 'tok-secret-1', token_type: 'Bearer', expires_in: 60 });
        return;
      }
      sendJson(response, 403, {
        error: 'forbidden',
        message: `key ${HEADER_SECRET} (${Buffer.from(HEADER_SECRET).toString('base64')}) with token tok-secret-1`,
      });
    });
    servers.push(api);

    const message = String(
      await sourceAt(api.url, { credentialsIn: 'basic-header' })
        .fetchPage(request, drain)
        .catch((e: unknown) => e),
    );

    expect(message).toContain('HTTP 403 forbidden');
    expect(message).not.toContain(HEADER_SECRET);
    expect(message).not.toContain(Buffer.from(HEADER_SECRET).toString('base64'));
    expect(message).not.toContain('tok-secret-1');
  });
});
