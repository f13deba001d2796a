import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledModule } from '../bin/cli-build.js';
import type { EventPublisher } from '../events/index.js';
import type { ObjectStore } from '../services/ports/object-store.js';
import type { RunLedger } from '../services/ports/run-ledger.js';
import type { Logger } from '../services/shared/logger.js';
import type { ServiceDeclaration } from '../services/topology.js';
import type { LocalHandler, LocalPorts } from './wiring.js';

/**
 * A consumer of the bus (EtlDone, EtlFailed, ...) is wired from its topology entry alone: its handler module sits
 * next to its Lambda entry (`services/<folder>/handler.ts`) and exports `create<Name>Handler(ports)`, which gets the
 * ports its entry declares and nothing else, as its Lambda gets the grants and environment of the same entry. So
 * adding a consumer is its topology entry and its files; nothing here names it (docs/consumers.md).
 */
export interface ConsumerPorts {
  logger: Logger;
  /** Each bucket the entry's `buckets` names. */
  rawStore?: ObjectStore;
  warehouseStore?: ObjectStore;
  resultsStore?: ObjectStore;
  /** With `needs: ['bus']`. */
  publisher?: EventPublisher;
  /** With `needs: ['runLedger']`, or its reads only with `needs: ['runProgress']`. */
  ledger?: RunLedger | Pick<RunLedger, 'progress'>;
}

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `avgHistory` -> `createAvgHistoryHandler`. */
const factoryName = (service: string): string =>
  `create${service.charAt(0).toUpperCase()}${service.slice(1)}Handler`;

/** The handler module beside the declared Lambda entry. */
function handlerModule(declaration: ServiceDeclaration, root = REPOSITORY_ROOT): string {
  return path.join(root, path.dirname(declaration.entry), 'handler.ts');
}

/** The ports the entry declares, from the runtime's. */
export function consumerPorts(
  service: string,
  declaration: ServiceDeclaration,
  ports: LocalPorts,
): ConsumerPorts {
  const buckets = declaration.buckets ?? {};
  const needs: readonly string[] = declaration.needs;
  // Only the ports the entry names are read: the runtime's refuse the others (scoped-ports.ts).
  return {
    logger: ports.logger(service),
    ...(buckets.rawBucket === undefined ? {} : { rawStore: ports.rawStore }),
    ...(buckets.warehouseBucket === undefined ? {} : { warehouseStore: ports.warehouseStore }),
    ...(buckets.resultsBucket === undefined ? {} : { resultsStore: ports.resultsStore }),
    ...(needs.includes('bus') ? { publisher: ports.publisher } : {}),
    ...(needs.includes('runLedger')
      ? { ledger: ports.ledger }
      : needs.includes('runProgress')
        ? { ledger: { progress: (runId: string) => ports.ledger.progress(runId) } }
        : {}),
  };
}

type HandlerFactory = (ports: ConsumerPorts) => LocalHandler;

/**
 * Imports a consumer's TypeScript module. `etl` run from its compiled bundle (decision 86) loads the module's
 * compiled counterpart from the same build, which shares the command's chunks (bin/cli-build.js, decision 94).
 * From the sources (tsx, jest) a plain import does. A module the build does not hold (a topology declared
 * elsewhere) has no TypeScript loader in the compiled command: Node 20 refuses the `.ts` extension, and Node
 * 22.18+ and 24 strip the types but cannot resolve the module's `.js` specifiers to its `.ts` siblings. Then tsx's
 * API imports that one module on demand (tsx is a runtime dependency; the bundle leaves packages as imports).
 * Should that fail too, the plain import's error is the one reported.
 */
async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const compiled = compiledModule(path.relative(REPOSITORY_ROOT, file).split(path.sep).join('/'));
  if (compiled !== undefined) return (await import(compiled)) as Record<string, unknown>;
  try {
    return (await import(file)) as Record<string, unknown>;
  } catch (error) {
    try {
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    } catch {
      throw error;
    }
  }
}

/** Loads the consumer's factory from its handler module; the error names the file and the export it expected. */
export async function loadConsumerFactory(
  service: string,
  declaration: ServiceDeclaration,
): Promise<HandlerFactory> {
  const file = handlerModule(declaration);
  const name = factoryName(service);
  let module: Record<string, unknown>;
  try {
    module = await importTypeScript(file);
  } catch (error) {
    throw new Error(`consumer ${service}: cannot load ${path.relative(REPOSITORY_ROOT, file)}`, {
      cause: error,
    });
  }
  const factory = module[name];
  if (typeof factory !== 'function') {
    throw new Error(
      `consumer ${service}: ${path.relative(REPOSITORY_ROOT, file)} exports no function ${name}(ports) (docs/consumers.md)`,
    );
  }
  // The factory's deps are a subset of ConsumerPorts by the convention above; its middleware parses each event.
  return factory as HandlerFactory;
}

/**
 * The consumer's handler, loaded on its first delivery (modules load asynchronously, the runtime is built
 * synchronously); a module that cannot be loaded fails that delivery, which the runtime retries and dead-letters.
 */
export function localConsumerHandler(
  service: string,
  declaration: ServiceDeclaration,
  ports: LocalPorts,
): LocalHandler {
  let handler: Promise<LocalHandler> | undefined;
  return async (event, context) => {
    handler ??= loadConsumerFactory(service, declaration).then((factory) =>
      factory(consumerPorts(service, declaration, ports)),
    );
    const loaded = await handler.catch((error: unknown) => {
      handler = undefined;
      throw error;
    });
    return loaded(event, context);
  };
}
