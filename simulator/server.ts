import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { Dataset } from '../events/index.js';
import { type Clock, systemClock } from '../services/ports/clock.js';
import { SEED_API_PATHS } from '../services/source-config/index.js';
import { AccessTokens, bearerToken, clientCredentials } from './access-tokens.js';
import { creationWindow } from './creation-window.js';
import { type FaultOptions, FaultOptionsSchema, FaultPlan, RateLimiter, retryAfter } from './faults.js';
import { FleetWorld, FleetWorldOptionsSchema } from './fleet-world.js';
import { type BodyCut, type PageEnvelope, sensorJson, vehicleJson, writePageBody } from './page-body.js';
import { parsePageQuery } from './page-query.js';

/**
 * node:http as a CommonJS module: an `import` of it builds its ES module namespace, which on Node.js 24 reads every
 * export, lazy ones included, and so loads fetch's whole HTTP client (undici) into the simulator's thread, which
 * never uses it (about 35 ms of CPU at each start; decision 94).
 */
const { createServer } = process.getBuiltinModule('node:http');

import { type SimulatorEndpoint, type SimulatorStats, StatsRecorder } from './simulator-stats.js';

/** Where the simulator serves what: the seed API's paths, which source configurations default to. */
export const SIMULATOR_PATHS = SEED_API_PATHS;

export const SimulatorOptionsSchema = FleetWorldOptionsSchema.extend({
  /** 0 picks a free port; the simulator only ever listens on loopback. */
  port: z.number().int().min(0).max(65_535).default(0),
  clientId: z.string().min(1).default('fleet-etl-local'),
  clientSecret: z.string().min(1).default('local-secret'),
  tokenTtlSeconds: z.number().int().min(1).default(3_600),
}).extend(FaultOptionsSchema.shape);

export type SimulatorOptions = z.input<typeof SimulatorOptionsSchema> & {
  /** Decides token expiry; tests move it forward to expire tokens without waiting. */
  clock?: Clock;
};

export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`, without a trailing slash. */
  url: string;
  port: number;
  world: FleetWorld;
  stats(): SimulatorStats;
  /** Invalidates every issued token, as a provider-side key rotation would. */
  revokeTokens(): void;
  /**
   * Rotates the client secret: from now on only `clientSecret` is accepted, and every issued token is revoked
   * (a provider that rotates credentials ends the sessions opened with the old ones).
   */
  rotateCredentials(clientSecret: string): void;
  /** Every access token issued so far, expired and revoked ones included (the fault suite scans for them). */
  issuedTokens(): string[];
  /** Stops listening and drops open connections, keep-alive ones included. */
  close(): Promise<void>;
}

const MAX_FORM_BYTES = 16 * 1024;
const LOOPBACK = '127.0.0.1';

/** Starts the fleet API simulator on loopback. Resolves once it is listening. */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const { clock = systemClock, ...rest } = options;
  const config = SimulatorOptionsSchema.parse(rest);
  const world = new FleetWorld({
    seed: config.seed,
    vehicles: config.vehicles,
    readingsPerVehicle: config.readingsPerVehicle,
    fleetStart: config.fleetStart,
  });
  const tokens = new AccessTokens(() => clock.now().getTime(), config.tokenTtlSeconds);
  const stats = new StatsRecorder();
  const api: ApiContext = {
    world,
    tokens,
    stats,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    tokenClock: clock,
    tokenTtlMs: config.tokenTtlSeconds * 1000,
    faults: config,
    plan: new FaultPlan(config),
    answered: new Set(),
    limiter: new RateLimiter(config.rateLimit, Date.now()),
  };

  const server = createServer((request, response) => {
    void handleRequest(api, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('the simulator is not listening on a TCP port');
  }
  const { port } = address;

  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    world,
    stats: () => stats.snapshot(),
    revokeTokens: () => {
      tokens.revokeAll();
      stats.tokensRevoked();
    },
    issuedTokens: () => [...tokens.issued],
    rotateCredentials: (clientSecret: string) => {
      api.clientSecret = z.string().min(1).parse(clientSecret);
      tokens.revokeAll();
      stats.tokensRevoked();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface ApiContext {
  world: FleetWorld;
  tokens: AccessTokens;
  stats: StatsRecorder;
  clientId: string;
  clientSecret: string;
  /** Token expiry runs on this clock (tests move it); everything else on the wall clock clients sleep on. */
  tokenClock: Clock;
  tokenTtlMs: number;
  faults: FaultOptions;
  plan: FaultPlan;
  /** Datasets answered once already: later answers carry the drifted total_pages. */
  answered: Set<Dataset>;
  limiter: RateLimiter;
}

function endpointOf(pathname: string): SimulatorEndpoint {
  switch (pathname) {
    case SIMULATOR_PATHS.token:
      return 'token';
    case SIMULATOR_PATHS.vehicles:
      return 'vehicles';
    case SIMULATOR_PATHS.sensors:
      return 'sensors';
    default:
      return 'other';
  }
}

async function handleRequest(
  api: ApiContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', `http://${LOOPBACK}`);
  const endpoint = endpointOf(url.pathname);
  // Before the simulated latency: earliness is judged on when the request arrived.
  const arrivedAt = Date.now();
  api.stats.started(endpoint, response);
  try {
    if (api.faults.latencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, api.faults.latencyMs));
    }
    if (endpoint === 'other') {
      sendJson(api, response, 404, { error: 'not_found', message: `no route for ${url.pathname}` });
    } else if (endpoint === 'token') {
      await handleTokenRequest(api, request, response);
    } else {
      await handlePageRequest(api, endpoint, request, response, url.searchParams, arrivedAt);
    }
  } catch (error) {
    if (response.headersSent) {
      response.destroy(error instanceof Error ? error : undefined);
    } else {
      sendJson(api, response, 500, { error: 'server_error' });
    }
  }
}

/** OAuth 2.0 client credentials grant (RFC 6749 §4.4). */
async function handleTokenRequest(api: ApiContext, request: IncomingMessage, response: ServerResponse) {
  if (request.method !== 'POST') {
    sendJson(api, response, 405, { error: 'method_not_allowed' }, { allow: 'POST' });
    return;
  }
  response.once('close', api.stats.tokenRequested(api.tokenClock.now().getTime()));
  const body = await readBody(request, MAX_FORM_BYTES);
  if (body === undefined) {
    sendJson(api, response, 413, { error: 'invalid_request', error_description: 'form body too large' });
    return;
  }
  const form = new URLSearchParams(body);
  const credentials = clientCredentials(request.headers.authorization, form);
  if (
    credentials === undefined ||
    !sameText(credentials.clientId, api.clientId) ||
    !sameText(credentials.clientSecret, api.clientSecret)
  ) {
    sendJson(
      api,
      response,
      401,
      { error: 'invalid_client' },
      { 'www-authenticate': 'Basic realm="fleet-api"' },
    );
    return;
  }
  const grantType = form.get('grant_type');
  if (grantType !== 'client_credentials') {
    const error = grantType === null ? 'invalid_request' : 'unsupported_grant_type';
    sendJson(api, response, 400, { error, error_description: 'grant_type must be client_credentials' });
    return;
  }
  const { accessToken, expiresIn } = api.tokens.issue();
  api.stats.tokenIssued(api.tokenClock.now().getTime(), api.tokenTtlMs);
  sendJson(
    api,
    response,
    200,
    { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn },
    { 'cache-control': 'no-store' },
  );
}

async function handlePageRequest(
  api: ApiContext,
  dataset: Dataset,
  request: IncomingMessage,
  response: ServerResponse,
  search: URLSearchParams,
  arrivedAt: number,
) {
  if (request.method !== 'GET') {
    sendJson(api, response, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
    return;
  }
  // Recorded before authentication: a retry that comes too early is early whatever its token.
  const key = request.url ?? '';
  api.stats.pageRequested(key, arrivedAt);
  const token = bearerToken(request.headers.authorization);
  if (token === undefined || !api.tokens.isValid(token)) {
    sendJson(
      api,
      response,
      401,
      { error: 'invalid_token' },
      { 'www-authenticate': 'Bearer realm="fleet-api", error="invalid_token"' },
    );
    return;
  }
  const parsed = parsePageQuery(search);
  if (!parsed.ok) {
    sendJson(api, response, 400, parsed.error);
    return;
  }
  const { fromCreationDate, toCreationDate, page, pageSize } = parsed.query;
  if (api.plan.failsPage(dataset, page)) {
    api.stats.fault('failedPages');
    sendJson(api, response, 400, {
      error: 'invalid_request',
      message: `${dataset} page ${page} always fails (simulated with --fail-page)`,
    });
    return;
  }
  const admitted = api.limiter.take(arrivedAt);
  if (!admitted.allowed) {
    api.stats.fault('rateLimited');
    throttle(api, response, key, admitted.waitSeconds, 'rate limit exceeded');
    return;
  }
  const fault = api.plan.next();
  if (fault.kind === 'throttle') {
    api.stats.fault('throttled');
    throttle(api, response, key, api.faults.retryAfterSeconds, 'too many requests (simulated)');
    return;
  }
  if (fault.kind === 'error') {
    api.stats.fault('serverErrors');
    if (fault.status === 503) {
      const advice = retryAfter(api.faults.retryAfterSeconds, Date.now(), api.plan.nextRetryAfterIsDate());
      api.stats.retryAfterGiven(key, advice.notBefore);
      sendJson(
        api,
        response,
        503,
        { error: 'temporarily_unavailable', message: 'service unavailable (simulated)' },
        { 'retry-after': advice.header },
      );
    } else {
      sendJson(api, response, 500, { error: 'server_error', message: 'internal error (simulated)' });
    }
    return;
  }
  if (fault.kind === 'wrong-content-type') {
    api.stats.fault('wrongContentType');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html><body><h1>Please sign in</h1></body></html>');
    return;
  }
  const window = creationWindow(fromCreationDate, toCreationDate);
  const totalItems = api.world.count(dataset, window);
  const drift = api.answered.has(dataset) ? api.faults.totalPagesDrift : 0;
  api.answered.add(dataset);
  if (drift !== 0) api.stats.fault('driftedTotals');
  const totalPages = Math.max(0, Math.ceil(totalItems / pageSize) + drift);
  const envelope: PageEnvelope = {
    page,
    page_size: pageSize,
    total_pages: totalPages,
    total_items: Math.max(0, totalItems + drift * pageSize),
  };
  const offset = (page - 1) * pageSize;
  const rowsInPage = Math.max(0, Math.min(pageSize, totalItems - offset));
  const cut: BodyCut | undefined =
    fault.kind === 'truncate'
      ? { row: Math.floor(fault.at * rowsInPage), dropConnection: fault.dropConnection }
      : undefined;
  const outcome =
    dataset === 'sensors'
      ? await writePageBody(
          response,
          envelope,
          api.world.rows('sensors', window, offset, pageSize),
          sensorJson,
          cut,
        )
      : await writePageBody(
          response,
          envelope,
          api.world.rows('vehicles', window, offset, pageSize),
          vehicleJson,
          cut,
        );
  if (outcome === 'cut') api.stats.fault('truncated');
  if (outcome === 'served') api.stats.pageServed();
}

/** 429 with a Retry-After, as delta-seconds or as an HTTP-date: a client must read both. */
function throttle(api: ApiContext, response: ServerResponse, key: string, seconds: number, message: string) {
  const advice = retryAfter(seconds, Date.now(), api.plan.nextRetryAfterIsDate());
  api.stats.retryAfterGiven(key, advice.notBefore);
  sendJson(api, response, 429, { error: 'too_many_requests', message }, { 'retry-after': advice.header });
}

function sendJson(
  api: ApiContext,
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  api.stats.refused(status);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

/** The body as text, or undefined when it is larger than `limit` bytes. */
async function readBody(request: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) {
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Constant-time comparison, so the simulator does not teach clients a habit real providers would punish. */
function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
