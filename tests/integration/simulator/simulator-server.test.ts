import { Agent, request as httpRequest } from 'node:http';
import * as z from 'zod';
import { creationWindow, type RunningSimulator, SIMULATOR_PATHS } from '../../../simulator/index.js';
import { CLIENT_ID, CLIENT_SECRET, ManualClock, requestToken, simulator } from './factories.js';

const TokenSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number(),
});
const PageSchema = z.object({
  page: z.number(),
  page_size: z.number(),
  total_pages: z.number(),
  total_items: z.number(),
  data: z.array(z.unknown()),
});

const WINDOW_QUERY =
  'fromCreationDate=2026-03-03T00:00:00.000Z&toCreationDate=2026-03-04T00:00:00.000Z&timeZone=UTC';

describe('fleet API simulator over loopback', () => {
  let sim: RunningSimulator;
  let token: string;

  beforeAll(async () => {
    sim = await simulator();
    token = TokenSchema.parse(await (await requestToken(sim.url)).json()).access_token;
  });

  afterAll(async () => {
    await sim.close();
  });

  const getPage = (dataset: 'vehicles' | 'sensors', query: string, bearer = token) =>
    fetch(`${sim.url}${SIMULATOR_PATHS[dataset]}?${query}`, {
      headers: { authorization: `Bearer ${bearer}` },
    });

  describe('POST /oauth/token', () => {
    it('issues a bearer token for client credentials given by HTTP Basic', async () => {
      const response = await requestToken(sim.url);

      expect(response.status).toBe(200);
      expect(TokenSchema.parse(await response.json())).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
      });
    });

    it('accepts client credentials given as form fields', async () => {
      const response = await requestToken(sim.url, {
        authorization: '',
        form: { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
      });

      expect(response.status).toBe(200);
    });

    it('refuses a wrong secret with 401 invalid_client', async () => {
      const before = sim.stats().unauthorized;
      const wrong = Buffer.from(`${CLIENT_ID}:nope`).toString('base64');

      const response = await requestToken(sim.url, { authorization: `Basic ${wrong}` });

      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'invalid_client' });
      expect(sim.stats().unauthorized).toBe(before + 1);
    });

    it('refuses another grant type with 400', async () => {
      const response = await requestToken(sim.url, { form: { grant_type: 'password' } });

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'unsupported_grant_type' });
    });
  });

  describe('GET /v1/sensors and /v1/vehicles', () => {
    it('refuses a request without a token, or with an unknown one, with 401', async () => {
      const missing = await fetch(`${sim.url}${SIMULATOR_PATHS.sensors}?${WINDOW_QUERY}`);
      const unknown = await getPage('sensors', WINDOW_QUERY, 'not-a-token');

      expect([missing.status, unknown.status]).toEqual([401, 401]);
      expect(await unknown.json()).toEqual({ error: 'invalid_token' });
    });

    it('refuses pageSize above 50000 with a 400 naming the parameter', async () => {
      const response = await getPage('sensors', `${WINDOW_QUERY}&pageSize=50001`);

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_request', parameter: 'pageSize' });
    });

    it('refuses a time zone Intl does not know', async () => {
      const response = await getPage(
        'sensors',
        WINDOW_QUERY.replace('timeZone=UTC', 'timeZone=Nowhere/Else'),
      );

      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ parameter: 'timeZone' });
    });

    it('paginates: total_pages = ceil(total_items / pageSize), pages concatenate to the window', async () => {
      // Prepare
      const pageSize = 400;
      const expected = [
        ...sim.world.rows('sensors', creationWindow('2026-03-03T00:00:00Z', '2026-03-04T00:00:00Z')),
      ];

      // Act
      const first = PageSchema.parse(
        await (await getPage('sensors', `${WINDOW_QUERY}&pageSize=${pageSize}`)).json(),
      );
      const rest = await Promise.all(
        Array.from({ length: first.total_pages - 1 }, async (_, i) =>
          PageSchema.parse(
            await (await getPage('sensors', `${WINDOW_QUERY}&pageSize=${pageSize}&page=${i + 2}`)).json(),
          ),
        ),
      );

      // Assess
      expect(first.total_items).toBe(expected.length);
      expect(first.total_pages).toBe(Math.ceil(expected.length / pageSize));
      expect([first, ...rest].flatMap((page) => page.data)).toEqual(expected);
      expect(rest.at(-1)?.page).toBe(first.total_pages);
    });

    it('answers a page past the end with empty data and the same totals', async () => {
      const first = PageSchema.parse(await (await getPage('vehicles', `${WINDOW_QUERY}&pageSize=5`)).json());

      const beyond = PageSchema.parse(
        await (await getPage('vehicles', `${WINDOW_QUERY}&pageSize=5&page=${first.total_pages + 1}`)).json(),
      );

      expect(beyond).toMatchObject({
        data: [],
        total_items: first.total_items,
        total_pages: first.total_pages,
      });
    });

    it('selects the same rows whatever offset the instants are written with', async () => {
      const madrid =
        'fromCreationDate=2026-03-03T01:00:00%2B01:00&toCreationDate=2026-03-04T01:00:00%2B01:00&timeZone=Europe/Madrid';

      const utc = PageSchema.parse(await (await getPage('sensors', `${WINDOW_QUERY}&pageSize=50`)).json());
      const local = PageSchema.parse(await (await getPage('sensors', `${madrid}&pageSize=50`)).json());

      expect(local.data).toEqual(utc.data);
    });
  });

  it('counts requests per endpoint and concurrent requests', async () => {
    const before = sim.stats();

    await Promise.all(Array.from({ length: 4 }, () => getPage('vehicles', `${WINDOW_QUERY}&pageSize=2`)));
    const after = sim.stats();

    expect(after.requests.vehicles - before.requests.vehicles).toBe(4);
    expect(after.maxConcurrentRequests).toBeGreaterThanOrEqual(1);
    expect(after.concurrentRequests).toBe(0);
  });

  it('answers 404 on an unknown path', async () => {
    const response = await fetch(`${sim.url}/v2/anything`);

    expect(response.status).toBe(404);
  });
});

describe('simulator token expiry', () => {
  const clock = new ManualClock();
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await simulator({ clock, tokenTtlSeconds: 600 });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('refuses a token once its lifetime has passed on the simulator clock', async () => {
    // Prepare
    const token = TokenSchema.parse(await (await requestToken(sim.url)).json()).access_token;
    const get = () =>
      fetch(`${sim.url}${SIMULATOR_PATHS.sensors}?${WINDOW_QUERY}&pageSize=1`, {
        headers: { authorization: `Bearer ${token}` },
      });
    const fresh = await get();

    // Act
    clock.advance(600_000);
    const expired = await get();

    // Assess
    expect([fresh.status, expired.status]).toEqual([200, 401]);
  });
});

describe('simulator shutdown', () => {
  it('closes while a keep-alive connection is still open', async () => {
    // Prepare
    const sim = await simulator();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      httpRequest(`${sim.url}/nowhere`, { agent }, (response) => {
        response.resume();
        response.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });

    // Act
    const started = Date.now();
    await sim.close();

    // Assess
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });
});
