import { existsSync } from 'node:fs';
import { DetailType } from '../../../events/index.js';
import { consumerPorts, loadConsumerFactory } from '../../../local/consumer-wiring.js';
import { assertSupportedPattern } from '../../../local/event-pattern.js';
import { lambdaContext } from '../../../local/lambda-context.js';
import { type LocalHandler, type LocalPorts, stageHandlers } from '../../../local/wiring.js';
import { FixedSqlSource } from '../../../services/adapters/local/fixed-sql-source.js';
import type { QueryEngine } from '../../../services/ports/query-engine.js';
import type { RunLedger } from '../../../services/ports/run-ledger.js';
import { DATASETS, serviceNames, topology } from '../../../services/topology.js';
import {
  envelope,
  FakeSource,
  fixedClock,
  MemoryObjectStore,
  RecordingPublisher,
  RecordingQueue,
  recordingLogger,
} from '../../helpers/fakes.js';

describe('the topology', () => {
  it.each(serviceNames)('declares an existing Lambda entry and local wiring for %s', async (name) => {
    const declaration = topology.services[name];
    expect(existsSync(declaration.entry)).toBe(true);
    // A pipeline stage is wired by hand; any other service is a bus consumer, wired from its declaration.
    const wiring = stageHandlers[name] ?? (await loadConsumerFactory(name, declaration));
    expect(typeof wiring).toBe('function');
  });

  it('wires the report, the first EtlDone consumer, from its declaration alone', () => {
    expect(stageHandlers.report).toBeUndefined();
  });

  it('gives every rule a pattern EventBridge and the local bus both evaluate', () => {
    for (const name of serviceNames) {
      const trigger = topology.services[name].trigger;
      if (trigger.kind === 'rule') expect(() => assertSupportedPattern(trigger.pattern)).not.toThrow();
    }
  });

  it('keeps the tasks queue visibility timeout at least six times the downloader timeout', () => {
    expect(topology.queues.tasks.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(
      6 * topology.services.downloader.timeoutSeconds,
    );
  });

  it('has a publisher for every detail-type a rule subscribes to', () => {
    const published = new Set<string>(serviceNames.flatMap((n) => [...topology.services[n].publishes]));
    for (const name of serviceNames) {
      const trigger = topology.services[name].trigger;
      if (trigger.kind !== 'rule') continue;
      for (const detailType of trigger.pattern['detail-type'] as readonly string[]) {
        expect(published).toContain(detailType);
      }
    }
    expect(published).toContain(DetailType.EtlDone);
  });
});

describe('the detail-types a service consumes', () => {
  /** Ports that no handler reaches here: every event below fails its validation before the core runs. */
  const ports = (): LocalPorts => ({
    source: new FakeSource({}),
    queue: new RecordingQueue(),
    publisher: new RecordingPublisher(),
    rawStore: new MemoryObjectStore(),
    warehouseStore: new MemoryObjectStore(),
    resultsStore: new MemoryObjectStore(),
    engine: {} as QueryEngine,
    sqlSource: new FixedSqlSource([]),
    ledger: {} as RunLedger,
    clock: fixedClock,
    datasets: DATASETS,
    database: 'fleet_etl',
    pageSize: 100,
    logger: () => recordingLogger(),
  });

  async function handlerOf(name: (typeof serviceNames)[number]): Promise<LocalHandler> {
    const stage = stageHandlers[name];
    if (stage !== undefined) return stage(ports());
    const declaration = topology.services[name];
    return (await loadConsumerFactory(name, declaration))(consumerPorts(name, declaration, ports()));
  }

  const ruleTriggered = serviceNames.filter((name) => topology.services[name].trigger.kind === 'rule');

  it.each(ruleTriggered)(
    'are, for %s, exactly the detail-types its rule routes to it: its handler refuses every other',
    async (name) => {
      // Prepare
      const trigger = topology.services[name].trigger;
      const routed = trigger.kind === 'rule' ? (trigger.pattern['detail-type'] as readonly string[]) : [];
      const handler = await handlerOf(name);
      const context = lambdaContext(name, 30);

      // Act: every detail-type, with a detail no schema accepts, so nothing gets past validation.
      const refusals = await Promise.all(
        Object.values(DetailType).map(async (detailType) => {
          const error = await handler(envelope(detailType, {}), context).then(
            () => undefined,
            (e: unknown) => (e instanceof Error ? e.message : String(e)),
          );
          return { detailType, unexpected: /unexpected detail-type/.test(error ?? '') };
        }),
      );

      // Assess: a routed type reaches its schema (and fails there); any other is refused by type.
      expect(refusals.filter((r) => !r.unexpected).map((r) => r.detailType)).toEqual(
        Object.values(DetailType).filter((t) => routed.includes(t)),
      );
    },
  );
});
