import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Dataset, DateWindow } from '../../../events/index.js';
import { FleetApiSource } from '../../../services/adapters/http/fleet-api-source.js';
import type { Timing } from '../../../services/adapters/http/timing.js';
import type { Clock } from '../../../services/ports/clock.js';
import type { FetchedPage, FleetSource, PageRequest } from '../../../services/ports/fleet-source.js';
import { type SeedApiOptions, seedApiConfig } from '../../../services/source-config/index.js';
import {
  type RunningSimulator,
  SIMULATOR_PATHS,
  type SimulatorOptions,
  startSimulator,
} from '../../../simulator/index.js';

export const CLIENT_ID = 'fleet-etl-test';
export const CLIENT_SECRET = 'correct-horse-battery-staple';

function simulatorOptions(overrides: Partial<SimulatorOptions> = {}): SimulatorOptions {
  return {
    seed: 5,
    vehicles: 30,
    readingsPerVehicle: 50,
    fleetStart: '2026-03-01',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...overrides,
  };
}

export function simulator(overrides: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  return startSimulator(simulatorOptions(overrides));
}

export interface TestSourceOptions extends Partial<Omit<SeedApiOptions, 'clientId' | 'clientSecretName'>> {
  timing?: Timing;
  random?: () => number;
  /** The secret the source is given (default: the simulator's). */
  clientSecret?: string;
}

/**
 * A FleetApiSource for the simulator's (the seed's) API shape. One attempt per request unless `retry` says
 * otherwise, so a test about how one response is classified sees that response's error.
 */
export function fleetSource(baseUrl: string, options: TestSourceOptions = {}): FleetApiSource {
  const { timing, random, clientSecret = CLIENT_SECRET, ...config } = options;
  return new FleetApiSource({
    config: seedApiConfig(baseUrl, {
      clientId: CLIENT_ID,
      clientSecretName: 'fleet-api/client-secret',
      ...config,
      retry: { maxAttempts: 1, ...config.retry },
    }),
    secrets: { get: async () => clientSecret },
    ...(timing === undefined ? {} : { timing }),
    ...(random === undefined ? {} : { random }),
  });
}

export const DAY_WINDOW: DateWindow = {
  from: '2026-03-03T00:00:00.000Z',
  to: '2026-03-04T00:00:00.000Z',
  timeZone: 'UTC',
};

export function pageRequest(overrides: Partial<PageRequest> = {}): PageRequest {
  const dataset: Dataset = 'sensors';
  return { dataset, window: DAY_WINDOW, page: 1, pageSize: 500, ...overrides };
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private epochMs = Date.parse('2026-03-04T01:00:00.000Z')) {}

  now(): Date {
    return new Date(this.epochMs);
  }

  advance(ms: number): void {
    this.epochMs += ms;
  }
}

export async function requestToken(
  baseUrl: string,
  init: { authorization?: string; form?: Record<string, string> } = {},
): Promise<Response> {
  const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
  return fetch(`${baseUrl}${SIMULATOR_PATHS.token}`, {
    method: 'POST',
    headers: {
      authorization: init.authorization ?? `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(init.form ?? { grant_type: 'client_credentials' }).toString(),
  });
}

export type StubHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface StubApi {
  url: string;
  tokenRequests: number;
  pageRequests: number;
  close(): Promise<void>;
}

/**
 * A fleet API that misbehaves on purpose. The token endpoint answers like the real one unless `token` is given;
 * every other request goes to `pages`.
 */
export async function startStubApi(pages: StubHandler, token?: StubHandler): Promise<StubApi> {
  const stub = { tokenRequests: 0, pageRequests: 0 };
  const server = createServer((request, response) => {
    request.resume();
    if (request.url === SIMULATOR_PATHS.token) {
      stub.tokenRequests += 1;
      if (token) {
        token(request, response);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          access_token: `stub-token-${stub.tokenRequests}`,
          token_type: 'Bearer',
          expires_in: 3600,
        }),
      );
      return;
    }
    stub.pageRequests += 1;
    pages(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return Object.assign(stub, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): StubHandler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** Fetches a page into memory, its rows parsed back from the NDJSON the source streamed into the sink. */
export async function collectPage(
  source: FleetSource,
  request: PageRequest,
): Promise<FetchedPage<string> & { lines: unknown[] }> {
  const page = await source.fetchPage(request, async (ndjson) => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of ndjson) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  });
  const lines: unknown[] = page.stored
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
  return { ...page, lines };
}

/** Timing on a clock moved by hand: a sleep returns at once, with the clock moved to its deadline. */
export class ManualTiming implements Timing {
  readonly sleeps: number[] = [];
  constructor(private epochMs = Date.parse('2026-03-04T01:00:00.000Z')) {}

  now(): number {
    return this.epochMs;
  }

  async sleepUntil(deadline: number): Promise<void> {
    this.sleeps.push(Math.max(0, deadline - this.epochMs));
    this.epochMs = Math.max(this.epochMs, deadline);
  }

  advance(ms: number): void {
    this.epochMs += ms;
  }
}
