import { scopedPorts, UndeclaredResourceError } from '../../../local/scoped-ports.js';
import { LOCAL_ONLY_READS, type LocalPorts } from '../../../local/wiring.js';
import { FixedSqlSource } from '../../../services/adapters/local/fixed-sql-source.js';
import type { QueryEngine } from '../../../services/ports/query-engine.js';
import type { RunLedger, RunProgress } from '../../../services/ports/run-ledger.js';
import { DATASETS, resourcesNeeded, topology } from '../../../services/topology.js';
import {
  FakeSource,
  fixedClock,
  MemoryObjectStore,
  RecordingPublisher,
  RecordingQueue,
  recordingLogger,
} from '../../helpers/fakes.js';

const progress: RunProgress = { datasets: {} } as RunProgress;

/** A ledger that answers reads and records the writes it receives. */
function ledger(): RunLedger & { writes: string[] } {
  const writes: string[] = [];
  const write = (name: string) => async () => {
    writes.push(name);
  };
  return {
    writes,
    progress: async () => progress,
    storedPage: async () => ({ rows: 7 }),
    recordPlan: write('recordPlan'),
    recordPage: async () => {
      writes.push('recordPage');
      return true;
    },
    recordPageFailure: write('recordPageFailure'),
    claimDrained: async () => {
      throw new Error('not here');
    },
    confirmDrained: write('confirmDrained'),
    releaseClaim: write('releaseClaim'),
    markFinished: write('markFinished'),
    reset: write('reset'),
  };
}

const ports = (): LocalPorts => ({
  source: new FakeSource({}),
  queue: new RecordingQueue(),
  publisher: new RecordingPublisher(),
  rawStore: new MemoryObjectStore(),
  warehouseStore: new MemoryObjectStore(),
  resultsStore: new MemoryObjectStore(),
  engine: {} as QueryEngine,
  sqlSource: new FixedSqlSource([]),
  ledger: ledger(),
  clock: fixedClock,
  datasets: DATASETS,
  database: 'fleet_etl',
  pageSize: 100,
  logger: () => recordingLogger(),
});

describe('the ports a service gets locally, from its topology entry', () => {
  it('are those of the resources it names; any other throws, naming the service and the resource', () => {
    const scoped = scopedPorts('report', topology.services.report, ports());

    expect(scoped.resultsStore).toBeInstanceOf(MemoryObjectStore);
    expect(() => scoped.engine).toThrow(UndeclaredResourceError);
    expect(() => scoped.engine).toThrow(
      'service report uses engine, but services/topology.ts does not give it athena',
    );
    expect(() => scoped.publisher).toThrow('does not give it bus');
    expect(() => scoped.rawStore).toThrow('does not give it rawBucket');
    // What needs no resource: the clock, the datasets, the loggers.
    expect(scoped.clock).toBe(fixedClock);
  });

  it('give the ledger’s reads only to an entry that says runProgress', async () => {
    const all = ports();
    const scoped = scopedPorts('report', topology.services.report, all);

    await expect(scoped.ledger.progress('2026-11-24')).resolves.toBe(progress);
    await expect(scoped.ledger.recordPage('2026-11-24', 'sensors', 1, 10)).rejects.toThrow(
      "service report calls the run ledger's recordPage, but services/topology.ts gives it runProgress (reads only), not runLedger",
    );
    expect((all.ledger as ReturnType<typeof ledger>).writes).toEqual([]);
  });

  it('give a consumer of details sent by reference the results store to read them from', () => {
    // The tracker names no bucket; an EtlDone may come by reference (decision 60), as its role may read in AWS.
    const scoped = scopedPorts('completionTracker', topology.services.completionTracker, ports());
    expect(scoped.resultsStore).toBeInstanceOf(MemoryObjectStore);
  });

  it('refuse the planner the ledger without its local-only reads, which AWS does not give it', () => {
    const planner = topology.services.planner;

    expect(() => scopedPorts('planner', planner, ports()).ledger).toThrow(
      'service planner uses ledger, but services/topology.ts does not give it runProgress',
    );
    expect(() => scopedPorts('planner', planner, ports()).rawStore).toThrow('does not give it rawBucket');
    const local = scopedPorts('planner', planner, ports(), LOCAL_ONLY_READS.planner);
    expect(local.rawStore).toBeInstanceOf(MemoryObjectStore);
    expect(typeof local.ledger.progress).toBe('function');
  });

  it('list as local-only reads nothing the topology gives the stage anyway, and only reads', () => {
    for (const [service, reads] of Object.entries(LOCAL_ONLY_READS)) {
      const declaration = topology.services[service as keyof typeof topology.services];
      expect({
        service,
        alsoDeclared: reads.filter((r) => resourcesNeeded(declaration).includes(r)),
      }).toEqual({
        service,
        alsoDeclared: [],
      });
      for (const read of reads)
        expect(['rawBucket', 'warehouseBucket', 'resultsBucket', 'runProgress']).toContain(read);
    }
  });
});
