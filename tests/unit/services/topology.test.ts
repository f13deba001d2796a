import { existsSync } from 'node:fs';
import { DetailType } from '../../../events/index.js';
import { loadConsumerFactory } from '../../../local/consumer-wiring.js';
import { assertSupportedPattern } from '../../../local/event-pattern.js';
import { stageHandlers } from '../../../local/wiring.js';
import { serviceNames, topology } from '../../../services/topology.js';

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
      for (const detailType of trigger.pattern['detail-type'] as string[]) {
        expect(published).toContain(detailType);
      }
    }
    expect(published).toContain(DetailType.EtlDone);
  });
});
