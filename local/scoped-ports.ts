import type { RunLedger } from '../services/ports/run-ledger.js';
import { consumesByReference } from '../services/service-environment.js';
import { type Resource, resourcesNeeded, type ServiceDeclaration } from '../services/topology.js';
import type { LocalPorts } from './wiring.js';

/** A service used a port its topology entry does not give it: the entry, or the service, is wrong. */
export class UndeclaredResourceError extends Error {
  override readonly name = 'UndeclaredResourceError';
  readonly retryable = false;
}

/** The resource each port stands for, as the CDK app grants it (the clock, datasets and loggers need none). */
const PORT_RESOURCES = {
  source: 'apiSecret',
  queue: 'tasksQueue',
  pageSize: 'tasksQueue',
  publisher: 'bus',
  rawStore: 'rawBucket',
  warehouseStore: 'warehouseBucket',
  resultsStore: 'resultsBucket',
  engine: 'athena',
  database: 'athena',
  sqlSource: 'sqlSource',
} as const satisfies Partial<Record<keyof LocalPorts, Resource>>;

/**
 * The runtime's ports as the service's topology entry grants them, as its function's role and environment are
 * derived from the same entry in AWS: a port of a resource the entry does not name throws, naming the service
 * and the resource, when the service touches it; `runProgress` gives the ledger's reads only. `localOnly` lists
 * what a stage may read here beyond its entry (wiring.ts, LOCAL_ONLY_READS).
 */
export function scopedPorts(
  service: string,
  declaration: ServiceDeclaration,
  ports: LocalPorts,
  localOnly: readonly Resource[] = [],
): LocalPorts {
  const granted = new Set<Resource>([...resourcesNeeded(declaration), ...localOnly]);
  // A consumer of details sent by reference reads them from the results store (decision 60), as in AWS.
  if (consumesByReference(declaration)) granted.add('resultsBucket');
  const scoped: LocalPorts = { ...ports };
  const refuse = (port: string, resource: Resource) => {
    Object.defineProperty(scoped, port, {
      enumerable: true,
      get() {
        throw new UndeclaredResourceError(
          `service ${service} uses ${port}, but services/topology.ts does not give it ${resource}`,
        );
      },
    });
  };
  for (const [port, resource] of Object.entries(PORT_RESOURCES)) {
    if (!granted.has(resource)) refuse(port, resource);
  }
  if (!granted.has('runLedger')) {
    if (granted.has('runProgress')) scoped.ledger = readOnlyLedger(service, ports.ledger);
    else refuse('ledger', 'runProgress');
  }
  return scoped;
}

/** The ledger's reads; a write throws, naming the service (its entry says `runProgress`, not `runLedger`). */
function readOnlyLedger(service: string, ledger: RunLedger): RunLedger {
  const write = (method: string) => () =>
    Promise.reject(
      new UndeclaredResourceError(
        `service ${service} calls the run ledger's ${method}, but services/topology.ts gives it runProgress (reads only), not runLedger`,
      ),
    );
  return {
    progress: (runId) => ledger.progress(runId),
    ...(ledger.storedPage === undefined ? {} : { storedPage: ledger.storedPage.bind(ledger) }),
    recordPlan: write('recordPlan'),
    recordPage: write('recordPage'),
    recordPageFailure: write('recordPageFailure'),
    claimDrained: write('claimDrained'),
    confirmDrained: write('confirmDrained'),
    releaseClaim: write('releaseClaim'),
    markFinished: write('markFinished'),
    reset: write('reset'),
  };
}
