import type { RunningSimulator } from '../../../infra/local/simulator/index.js';
import { creationWindow } from '../../../infra/local/simulator/index.js';
import { FleetApiTerminalError } from '../../../services/adapters/http/fleet-api-source.js';
import { TerminalError } from '../../../services/shared/errors.js';
import { CLIENT_SECRET, DAY_WINDOW, fleetSource, ManualClock, pageRequest, simulator } from './factories.js';

describe('FleetApiSource against the simulator', () => {
  const simulatorClock = new ManualClock();
  let sim: RunningSimulator;

  beforeAll(async () => {
    sim = await simulator({ clock: simulatorClock });
  });

  afterAll(async () => {
    await sim.close();
  });

  it('fetches every page of a window, rows validated and in the API order', async () => {
    // Prepare
    const source = fleetSource(sim.url);
    const expected = [...sim.world.rows('sensors', creationWindow(DAY_WINDOW.from, DAY_WINDOW.to))];

    // Act
    const first = await source.fetchPage(pageRequest({ pageSize: 300 }));
    const rest = await Promise.all(
      Array.from({ length: first.totalPages - 1 }, (_, i) =>
        source.fetchPage(pageRequest({ pageSize: 300, page: i + 2 })),
      ),
    );

    // Assess
    expect(first.totalPages).toBe(Math.ceil(expected.length / 300));
    expect([first, ...rest].flatMap((page) => page.rows)).toEqual(expected);
  });

  it('fetches vehicles too', async () => {
    const source = fleetSource(sim.url);

    const page = await source.fetchPage(pageRequest({ dataset: 'vehicles', pageSize: 50 }));

    expect(page.rows).toEqual([
      ...sim.world.rows('vehicles', creationWindow(DAY_WINDOW.from, DAY_WINDOW.to)),
    ]);
  });

  it('shares one token request among concurrent page fetches', async () => {
    // Prepare
    const source = fleetSource(sim.url);
    const before = sim.stats();

    // Act
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => source.fetchPage(pageRequest({ page: i + 1, pageSize: 20 }))),
    );
    await source.fetchPage(pageRequest({ page: 9, pageSize: 20 }));

    // Assess
    const after = sim.stats();
    expect(after.requests.token - before.requests.token).toBe(1);
    expect(after.requests.sensors - before.requests.sensors).toBe(9);
  });

  it('refreshes the token once and retries once when the API refuses it', async () => {
    // Prepare
    const source = fleetSource(sim.url);
    await source.fetchPage(pageRequest({ pageSize: 10 }));
    const before = sim.stats();
    simulatorClock.advance(2 * 3_600_000);

    // Act
    const page = await source.fetchPage(pageRequest({ page: 2, pageSize: 10 }));

    // Assess
    const after = sim.stats();
    expect(page.rows).toHaveLength(10);
    expect(after.unauthorized - before.unauthorized).toBe(1);
    expect(after.tokensIssued - before.tokensIssued).toBe(1);
    expect(after.requests.sensors - before.requests.sensors).toBe(2);
  });

  it('requests a new token once the cached one is within a minute of expiring', async () => {
    const adapterClock = new ManualClock();
    const source = fleetSource(sim.url, { clock: adapterClock });
    const before = sim.stats();

    await source.fetchPage(pageRequest({ pageSize: 5 }));
    adapterClock.advance(3_600_000 - 59_000);
    await source.fetchPage(pageRequest({ pageSize: 5 }));

    expect(sim.stats().tokensIssued - before.tokensIssued).toBe(2);
  });

  it('fails terminally on pageSize above 50000, naming the parameter', async () => {
    const source = fleetSource(sim.url);

    const failure = source.fetchPage(pageRequest({ pageSize: 50_001 }));

    await expect(failure).rejects.toBeInstanceOf(TerminalError);
    await expect(failure).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('pageSize'),
    });
    await expect(failure).rejects.toThrow(/sensors page 1/);
  });

  it('fails terminally on rejected client credentials, without repeating the secret', async () => {
    const source = fleetSource(sim.url, { clientSecret: async () => `${CLIENT_SECRET}-wrong` });

    const error: unknown = await source.fetchPage(pageRequest()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(error).toMatchObject({ status: 401, message: expect.stringContaining('invalid_client') });
    expect(String(error)).not.toContain(CLIENT_SECRET);
  });
});
