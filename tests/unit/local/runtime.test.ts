import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_BUS_NAME, DetailType, publishEvent } from '../../../events/index.js';
import { LocalRuntime, type LocalRuntimeOptions } from '../../../local/runtime.js';
import { FixedSqlSource } from '../../../services/adapters/local/fixed-sql-source.js';
import type { QueryEngine } from '../../../services/ports/query-engine.js';
import {
  DATASETS,
  serviceNames,
  subscriptionRuleName,
  type TopologyDeclaration,
  topology,
} from '../../../services/topology.js';
import { FakeSource, fixedClock } from '../../helpers/fakes.js';
import { validDetails } from '../../helpers/samples.js';

/** The local runtime is derived from the topology: what it takes from it, checked against the CDK app's reading. */
describe('the local runtime, derived from the topology', () => {
  let stateDir: string;
  const runtimes: LocalRuntime[] = [];

  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'local-runtime-'));
  });

  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  function runtimeOf(options: Partial<LocalRuntimeOptions> = {}): LocalRuntime {
    const runtime = new LocalRuntime({
      stateDir,
      queues: 'paused',
      deliveryRetryDelayMs: 1,
      ports: {
        source: new FakeSource({ vehicles: [{ vehicle_id: 'V1' }], sensors: [{ vehicle_id: 'V1' }] }),
        engine: {} as QueryEngine,
        sqlSource: new FixedSqlSource([]),
        clock: fixedClock,
        datasets: DATASETS,
        database: 'fleet_etl',
        pageSize: 100,
      },
      ...options,
    });
    runtimes.push(runtime);
    return runtime;
  }

  it('names each rule as the CDK app names it in AWS, after the default bus', () => {
    const runtime = runtimeOf();

    const ruleTriggered = serviceNames.filter((name) => topology.services[name].trigger.kind === 'rule');
    expect(runtime.bus.ruleNames).toEqual(
      ruleTriggered.map((name) => subscriptionRuleName(DEFAULT_BUS_NAME, name)),
    );
  });

  it('archives every event under the default bus name', async () => {
    const runtime = runtimeOf();
    const { schemaVersion: _, ...failed } = validDetails.EtlFailed;

    await publishEvent(runtime.bus, DetailType.EtlFailed, failed);
    await runtime.settled();
    await runtime.bus.close();

    const archived = (await readFile(runtime.layout.archive, 'utf8')).trim().split('\n');
    expect(archived.map((line) => JSON.parse(line).bus)).toEqual([DEFAULT_BUS_NAME]);
  });

  it('gives a stage only the ports its entry names: a query runner without athena cannot be wired', () => {
    const withoutAthena: TopologyDeclaration = {
      ...topology,
      services: {
        ...topology.services,
        queryRunner: { ...topology.services.queryRunner, needs: ['sqlSource', 'bus'] },
      },
    };

    expect(() => runtimeOf({ topology: withoutAthena })).toThrow(
      'service queryRunner uses engine, but services/topology.ts does not give it athena',
    );
  });

  it('refuses a service an event its entry does not say it publishes, naming the service and the type', async () => {
    // Prepare: a planner whose entry forgot PagesPlanned.
    const forgetful: TopologyDeclaration = {
      ...topology,
      services: {
        ...topology.services,
        planner: { ...topology.services.planner, publishes: [DetailType.EtlFailed] },
      },
    };
    const runtime = runtimeOf({ topology: forgetful });
    const published: string[] = [];
    runtime.bus.onEvent((event) => published.push(event['detail-type']));

    // Act: the tasks it queues stay queued (the queue is paused), so the run never settles; its deliveries do.
    runtime.fireSchedule(new Date('2026-11-25T01:00:00.000Z'));
    while (runtime.deadLetters.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));

    // Assess: each planner invocation failed on PagesPlanned, and nothing reached the bus.
    expect(runtime.deadLetters.map((letter) => letter.service)).toEqual(['planner', 'planner']);
    for (const letter of runtime.deadLetters) {
      expect(letter.reason).toContain(
        'service planner may not publish PagesPlanned: services/topology.ts declares that it publishes EtlFailed',
      );
    }
    expect(published).toEqual([]);
  });
});
