import { FleetApiTerminalError } from '../../../services/adapters/http/fleet-api-source.js';
import { TerminalError } from '../../../services/shared/errors.js';
import type { RunningSimulator } from '../../../simulator/index.js';
import { creationWindow } from '../../../simulator/index.js';
import {
  CLIENT_SECRET,
  collectPage,
  DAY_WINDOW,
  fleetSource,
  ManualClock,
  ManualTiming,
  pageRequest,
  simulator,
} from './factories.js';

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
    const first = await collectPage(source, pageRequest({ pageSize: 300 }));
    const rest = await Promise.all(
      Array.from({ length: first.totalPages - 1 }, (_, i) =>
        collectPage(source, pageRequest({ pageSize: 300, page: i + 2 })),
      ),
    );

    // Assess
    expect(first.totalPages).toBe(Math.ceil(expected.length / 300));
    expect([first, ...rest].flatMap((page) => page.lines)).toEqual(expected);
    expect(first.rows).toBe(300);
  });

  it('fetches vehicles too', async () => {
    const source = fleetSource(sim.url);

    const page = await collectPage(source, pageRequest({ dataset: 'vehicles', pageSize: 50 }));

    expect(page.lines).toEqual([
      ...sim.world.rows('vehicles', creationWindow(DAY_WINDOW.from, DAY_WINDOW.to)),
    ]);
  });

  it('shares one token request among concurrent page fetches', async () => {
    // Prepare
    const source = fleetSource(sim.url);
    const before = sim.stats();

    // Act
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => collectPage(source, pageRequest({ page: i + 1, pageSize: 20 }))),
    );
    await collectPage(source, pageRequest({ page: 9, pageSize: 20 }));

    // Assess
    const after = sim.stats();
    expect(after.requests.token - before.requests.token).toBe(1);
    expect(after.requests.sensors - before.requests.sensors).toBe(9);
  });

  it('refreshes the token once and retries once when the API refuses it', async () => {
    // Prepare
    const source = fleetSource(sim.url);
    await collectPage(source, pageRequest({ pageSize: 10 }));
    const before = sim.stats();
    simulatorClock.advance(2 * 3_600_000);

    // Act
    const page = await collectPage(source, pageRequest({ page: 2, pageSize: 10 }));

    // Assess
    const after = sim.stats();
    expect(page.lines).toHaveLength(10);
    expect(after.unauthorized - before.unauthorized).toBe(1);
    expect(after.tokensIssued - before.tokensIssued).toBe(1);
    expect(after.requests.sensors - before.requests.sensors).toBe(2);
  });

  it('requests a new token once the cached one is within a minute of expiring', async () => {
    const adapterTiming = new ManualTiming();
    const source = fleetSource(sim.url, { timing: adapterTiming });
    const before = sim.stats();

    await source.countPages(pageRequest({ pageSize: 5 }));
    adapterTiming.advance(3_600_000 - 61_000);
    await source.countPages(pageRequest({ pageSize: 5 }));
    expect(sim.stats().tokensIssued - before.tokensIssued).toBe(1);
    adapterTiming.advance(2_000);
    await source.countPages(pageRequest({ pageSize: 5 }));

    expect(sim.stats().tokensIssued - before.tokensIssued).toBe(2);
  });

  it('fails terminally on pageSize above 50000, naming the parameter', async () => {
    const source = fleetSource(sim.url);

    const failure = source.countPages(pageRequest({ pageSize: 50_001 }));

    await expect(failure).rejects.toBeInstanceOf(TerminalError);
    await expect(failure).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('pageSize'),
    });
    await expect(failure).rejects.toThrow(/sensors page 1/);
  });

  it('fails terminally on rejected client credentials, without repeating the secret', async () => {
    const source = fleetSource(sim.url, { clientSecret: `${CLIENT_SECRET}-wrong` });

    const error: unknown = await source.countPages(pageRequest()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FleetApiTerminalError);
    expect(error).toMatchObject({ status: 401, message: expect.stringContaining('invalid_client') });
    expect(String(error)).not.toContain(CLIENT_SECRET);
  });
});
