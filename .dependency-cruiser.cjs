// The layer rules (`npm run lint:layers`; part of `npm test`): which of our folders may import which.
// Why these layers and where each file belongs: docs/decisions/0091-layer-rules.md.
//
// From the inside out:
//   events/                   the contract: detail-types, schemas, envelope, publish helper. Imports nothing of ours.
//   services/shared/          pure helpers every layer of the services uses (errors, rows, run identity, lake keys,
//                             SQL text, the Logger interface, environment parsing, the EMF metric catalog, number
//                             formats), and a web-standard Response body read up to a limit (bounded-body.ts: no
//                             SDK, shared by the HTTP and GitHub adapter families, which may not import each other).
//                             Part of the core layer: → events only.
//   services/source-config/   the fleet API's description (zod schema, defaults, nightly windows). → events, shared.
//   services/ports/           the interfaces the cores receive. → events, shared, source-config (the FleetSource port
//                             speaks of a dataset's SnapshotMode).
//   a service's core          services/<service>/*.ts except handler.ts, lambda.ts and lambda-*.ts: the pure stage
//                             (plan-pages.ts, download-page.ts, ...). → its own service's core files, ports, events,
//                             shared. Not the topology, not source-config, no adapter, no other service.
//   a service's handler       services/<service>/handler.ts: Middy wiring around the core. → what its core may import,
//                             its own core, and services/topology.ts (the service's trigger is declared there).
//   services/topology.ts      every service declared once. → events, shared, source-config.
//   adapters                  services/adapters/<family>/** (aws, http, github, local): the ports over real systems.
//                             → their own family, ports, events, shared, source-config. Never another family, a
//                             service or the topology.
//   adapter factories         services/adapters/*.ts: choose between families by configuration (sql-source-config.ts
//                             picks the GitHub or the folder source). → any adapter, and what adapters may import.
//   simulator/                the fleet API simulator. → events, shared, ports, source-config.
//   composition roots         wire adapters into cores, each from the layers above as it needs, and in this order:
//     Lambda entries          services/<service>/lambda.ts and lambda-*.ts (the entry, and pieces of it a test imports
//                             on their own). → services/ only: a bundle carries no local runtime, CLI or CDK.
//     local/                  the local runtime. → services/, events/, simulator/; not the CLI, the CDK app or the twin.
//     infra/                  the CDK app. → services/, events/; not the local runtime, the CLI or the twin.
//     twin/                   the cloud twin. → infra/, local/ (the bus's pattern matching) and the layers above.
//     cli/, bin/              the `etl` command, the top: → anything but bench/ and tests/; only they import cli/, bin/.
//   bench/, tests/            → anything; nothing else imports them.
// And no import cycles, but for those closed by a dynamic import(): each cli/<command>-spec.ts loads its command
// lazily, and the command imports its spec to parse its flags; a lazy import() cannot see a half-evaluated module.

/** Our folders; node_modules and Node's built-ins are not layered here (see inner-layers-no-platform-sdk). */
const OURS = '^(events|services|local|cli|infra|twin|simulator|bench|tests|bin)/';
const EVENTS = '^events/';
const SHARED = '^services/shared/';
const SOURCE_CONFIG = '^services/source-config/';
const PORTS = '^services/ports/';
const TOPOLOGY = '^services/topology[.]ts$';
/** services/<service>/: any folder of services/ that is none of the layers above or the adapters. */
const SERVICE = '^services/(?!shared/|source-config/|ports/|adapters/)([^/]+)/';
/** A service's core: its files but handler.ts, lambda.ts and lambda-*.ts. */
const CORE = `${SERVICE}(?!handler[.]ts$|lambda[.]ts$|lambda-)`;
const HANDLER = `${SERVICE}handler[.]ts$`;
/** A service's Lambda entry: lambda.ts, and lambda-*.ts beside it. */
const ENTRY = [`${SERVICE}lambda[.]ts$`, `${SERVICE}lambda-[^/]+[.]ts$`];
/** `$1` is the service the importing file belongs to (dependency-cruiser's group matching). */
const OWN_CORE = '^services/$1/(?!handler[.]ts$|lambda[.]ts$|lambda-)';

// The one allowed upward edge: the local runtime loads a consumer's handler from the compiled build the command
// runs (bin/cli-build.js compiledModule, decision 94), and only that build knows its file names. Plain JavaScript
// that runs before anything is compiled, so it cannot live below the command.
const COMPILED_BUILD_LOOKUP = '^bin/cli-build\\.js$';
/** Its one importer: the exception is this edge, not a door into bin/ for the rest of local/. */
const COMPILED_BUILD_IMPORTER = '^local/consumer-wiring\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'events-import-nothing-of-ours',
      comment: 'events/ is the contract every side shares; it must not depend on any of them.',
      severity: 'error',
      from: { path: EVENTS },
      to: { path: OURS, pathNot: EVENTS },
    },
    {
      name: 'shared-imports-events-only',
      comment: 'services/shared/ is part of the core layer: pure helpers over the contract, nothing else.',
      severity: 'error',
      from: { path: SHARED },
      to: { path: OURS, pathNot: [SHARED, EVENTS] },
    },
    {
      name: 'source-config-imports-events-and-shared',
      severity: 'error',
      from: { path: SOURCE_CONFIG },
      to: { path: OURS, pathNot: [SOURCE_CONFIG, SHARED, EVENTS] },
    },
    {
      name: 'ports-import-the-core-layer-only',
      severity: 'error',
      from: { path: PORTS },
      to: { path: OURS, pathNot: [PORTS, SHARED, SOURCE_CONFIG, EVENTS] },
    },
    {
      name: 'topology-is-a-declaration',
      comment:
        'The topology declares the services; it knows their events and the API budget, not their code.',
      severity: 'error',
      from: { path: TOPOLOGY },
      to: { path: OURS, pathNot: [EVENTS, SHARED, SOURCE_CONFIG] },
    },
    {
      name: 'core-imports-ports-events-shared',
      comment:
        "A service's core receives its ports; it never imports an adapter, the topology, another service or its own " +
        'handler and entry.',
      severity: 'error',
      from: { path: CORE },
      to: { path: OURS, pathNot: [OWN_CORE, PORTS, SHARED, EVENTS] },
    },
    {
      name: 'handler-wires-its-core',
      comment:
        "A handler is Middy around its own core; the adapters are the Lambda entry's (lambda.ts) to choose.",
      severity: 'error',
      from: { path: HANDLER },
      to: { path: OURS, pathNot: [OWN_CORE, PORTS, SHARED, EVENTS, TOPOLOGY] },
    },
    {
      name: 'adapter-imports-its-family-and-the-core-layer',
      comment:
        'An adapter implements ports over one kind of system; combining families is a factory or a root.',
      severity: 'error',
      from: { path: '^services/adapters/([^/]+)/' },
      to: { path: OURS, pathNot: ['^services/adapters/$1/', PORTS, SHARED, SOURCE_CONFIG, EVENTS] },
    },
    {
      name: 'adapter-factory-imports-adapters-and-the-core-layer',
      severity: 'error',
      from: { path: '^services/adapters/[^/]+[.]ts$' },
      to: { path: OURS, pathNot: ['^services/adapters/', PORTS, SHARED, SOURCE_CONFIG, EVENTS] },
    },
    {
      name: 'simulator-imports-the-core-layer-only',
      comment: 'The simulator stands in for the fleet API; it shares the contract, not the pipeline.',
      severity: 'error',
      from: { path: '^simulator/' },
      to: { path: OURS, pathNot: ['^simulator/', EVENTS, SHARED, PORTS, SOURCE_CONFIG] },
    },
    {
      name: 'lambda-entry-imports-services-only',
      comment:
        'A Lambda bundle is built from its entry: nothing of the local runtime, the CLI or the CDK may come along.',
      severity: 'error',
      from: { path: ENTRY },
      to: { path: OURS, pathNot: ['^services/', EVENTS] },
    },
    {
      name: 'local-runtime-below-the-command',
      comment:
        'The local runtime is derived from the topology; the command (cli/) drives it, not the other way round.',
      severity: 'error',
      from: { path: '^local/', pathNot: COMPILED_BUILD_IMPORTER },
      to: { path: '^(cli|bin|infra|twin)/' },
    },
    {
      name: 'the-compiled-build-lookup-only',
      comment:
        'local/consumer-wiring.ts may reach bin/cli-build.js (COMPILED_BUILD_LOOKUP above), nothing else above it.',
      severity: 'error',
      from: { path: COMPILED_BUILD_IMPORTER },
      to: { path: '^(cli|bin|infra|twin)/', pathNot: COMPILED_BUILD_LOOKUP },
    },
    {
      name: 'cdk-app-below-the-command',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^(cli|bin|local|twin)/' },
    },
    {
      name: 'only-the-command-imports-the-command',
      comment: 'cli/ and bin/ are the top: what they hold for others belongs in a lower layer.',
      severity: 'error',
      from: { pathNot: ['^(cli|bin|bench|tests)/', COMPILED_BUILD_IMPORTER] },
      to: { path: '^(cli|bin)/' },
    },
    {
      name: 'nothing-imports-bench-or-tests',
      severity: 'error',
      from: { pathNot: '^(bench|tests)/' },
      to: { path: '^(bench|tests)/' },
    },
    {
      name: 'inner-layers-no-platform-sdk',
      comment:
        'Cores, handlers, ports and the contract run anywhere: the AWS SDK, the CDK, Powertools, DuckDB and SQLite ' +
        'belong to adapters and composition roots (ARCHITECTURE.md: a core never imports an SDK).',
      severity: 'error',
      from: { path: [EVENTS, SHARED, SOURCE_CONFIG, PORTS, TOPOLOGY, CORE, HANDLER] },
      to: {
        path: '^node_modules/(@aws-sdk|@smithy|aws-cdk-lib|constructs|@aws-lambda-powertools|@duckdb|better-sqlite3)/',
      },
    },
    {
      name: 'no-circular',
      comment:
        'Cycles closed only by static imports (type-only ones included); see the header for dynamic ones.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['dynamic-import'] } },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the cruiser cannot resolve would escape every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports are layer dependencies too: a core that names an adapter's type depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // `depcruise .` reads every source folder, a new one included; these are the build outputs and state folders
    // .gitignore lists, whose bundles would be cruised as sources.
    exclude: { path: '^(dist|cdk[.]out|coverage|bench-results|test-output|[.]etl|[.]scratch|[.]git)/' },
    // Resolve packages as Node resolves our ES modules: through their `exports`, with the `import` condition.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      mainFields: ['module', 'main'],
    },
  },
};
