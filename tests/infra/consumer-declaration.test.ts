import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { DetailType, EVENT_SOURCE, publishEvent } from '../../events/index.js';
import { BUNDLED_QUERIES } from '../../local/run-pipeline.js';
import { LocalRuntime } from '../../local/runtime.js';
import { FolderSqlSource } from '../../services/adapters/local/folder-sql-source.js';
import { systemClock } from '../../services/ports/clock.js';
import type { FleetSource } from '../../services/ports/fleet-source.js';
import type { QueryEngine } from '../../services/ports/query-engine.js';
import {
  DATASETS,
  type ServiceDeclaration,
  subscriptionRuleName,
  type TopologyDeclaration,
  topology,
} from '../../services/topology.js';
import { validDetails } from '../helpers/samples.js';
import { discard, type Synthesized, synthesize, testConfig } from './helpers/synth.js';
import {
  arnOf,
  asList,
  identityStatements,
  idOf,
  propertiesOf,
  ref,
  resourcesOf,
} from './helpers/template.js';

/**
 * docs/consumers.md, step by step: a consumer of EtlDone added as one topology entry, with the handler and Lambda
 * entry the document shows (copied into tests/infra/fixtures/avg-history/, checked here against the document), and
 * nothing else. Both runtimes are derived from that test-only topology: the synthesized stage has its function,
 * environment, rule, target, dead-letter queue and grants; the local runtime delivers EtlDone to it.
 */

const FIXTURE = 'tests/infra/fixtures/avg-history';

/** Step 1 of docs/consumers.md, with the entry pointing at the fixture instead of services/avg-history/. */
const avgHistory: ServiceDeclaration = {
  description: 'Keeps the average time between measurements of every run, one file per run.',
  entry: `${FIXTURE}/lambda.ts`,
  trigger: { kind: 'rule', pattern: { source: [EVENT_SOURCE], 'detail-type': [DetailType.EtlDone] } },
  publishes: [],
  needs: [],
  buckets: { resultsBucket: 'readWrite' },
  timeoutSeconds: 30,
  memoryMb: 256,
};

const withConsumer: TopologyDeclaration = {
  ...topology,
  services: { ...topology.services, avgHistory },
};

/** The document's code blocks. */
async function documentedBlocks(): Promise<string[]> {
  const doc = await readFile('docs/consumers.md', 'utf8');
  return [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** A file of services/avg-history/ as it reads from the fixture folder: imports outside that folder rebased. */
function rebased(code: string): string {
  return code.replace(/from '(\.[^']+)'/g, (whole, specifier: string) => {
    const target = path.posix.normalize(path.posix.join('services/avg-history', specifier));
    if (target.startsWith('services/avg-history/')) return whole;
    return `from '${path.posix.relative(FIXTURE, target)}'`;
  });
}

/** Import lines as a set (the formatter sorts them), the rest line by line. */
function shape(code: string): { imports: string[]; body: string } {
  const lines = code.trim().split('\n');
  return {
    imports: lines.filter((l) => l.startsWith('import ')).sort(),
    body: lines.filter((l) => !l.startsWith('import ')).join('\n'),
  };
}

describe('docs/consumers.md: a new EtlDone consumer is one topology entry and its two files', () => {
  it('tests the handler and Lambda entry the document shows', async () => {
    const blocks = await documentedBlocks();
    const handler = blocks.find((b) => b.includes('export function createAvgHistoryHandler'));
    const lambda = blocks.find((b) => b.includes('export const handler = createAvgHistoryHandler'));
    expect(shape(await readFile(`${FIXTURE}/handler.ts`, 'utf8'))).toEqual(shape(rebased(handler ?? '')));
    expect(shape(await readFile(`${FIXTURE}/lambda.ts`, 'utf8'))).toEqual(shape(rebased(lambda ?? '')));
    // The document's entry is the one this test declares, but for the fixture's path.
    const entry = blocks.find((b) => b.startsWith('avgHistory: {')) ?? '';
    for (const line of [
      "entry: 'services/avg-history/lambda.ts',",
      "trigger: { kind: 'rule', pattern: { source: [EVENT_SOURCE], 'detail-type': [DetailType.EtlDone] } },",
      'needs: [],',
      "buckets: { resultsBucket: 'readWrite' },",
    ]) {
      expect(entry).toContain(line);
    }
  });

  describe('the synthesized stage', () => {
    let synthesized: Synthesized;

    beforeAll(() => {
      // cdk-nag runs in the synth: an unacknowledged finding of the new function would throw here.
      synthesized = synthesize(testConfig(), { topology: withConsumer, cloudFormationValidation: false });
    }, 120_000);

    afterAll(() => discard(synthesized));

    const consumerFunction = () => {
      const fn = synthesized.stack.services.functions.get('avgHistory');
      if (fn === undefined) throw new Error('no avgHistory function');
      return fn;
    };

    it('has the function, with the environment that locates its bucket', () => {
      const { template, stack } = synthesized;
      const fn = propertiesOf(template.toJSON().Resources[idOf(consumerFunction())]);
      expect(fn).toMatchObject({
        Timeout: 30,
        MemorySize: 256,
        Environment: { Variables: { RESULTS_BUCKET: ref(idOf(stack.lake.results)) } },
      });
    });

    it('has the rule with the declared pattern, its target, the dead-letter queue and the retry policy', () => {
      const { template, stack } = synthesized;
      template.hasResourceProperties('AWS::Events::Rule', {
        Name: subscriptionRuleName('fleet-etl-dev', 'avgHistory'),
        EventBusName: ref(idOf(stack.bus.bus)),
        EventPattern: { source: [EVENT_SOURCE], 'detail-type': [DetailType.EtlDone] },
        Targets: [
          Match.objectLike({
            Arn: arnOf(idOf(consumerFunction())),
            DeadLetterConfig: { Arn: arnOf(idOf(stack.deadLetters.undeliveredEvents)) },
            RetryPolicy: { MaximumEventAgeInSeconds: 21_600, MaximumRetryAttempts: 20 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(idOf(consumerFunction())),
        Principal: 'events.amazonaws.com',
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: ref(idOf(consumerFunction())),
        DestinationConfig: { OnFailure: { Destination: arnOf(idOf(stack.deadLetters.failedInvocations)) } },
      });
    });

    it('grants it the results bucket to read and write, and no other bucket, table, queue or bus', () => {
      const { template, stack } = synthesized;
      const role = idOf(consumerFunction().executionRole).replace(/[0-9A-F]{8}$/, '');
      const statements = identityStatements(template)
        .filter(({ owner }) => owner.startsWith(role))
        .map(({ statement }) => statement);
      const onBucket = (bucket: string) =>
        statements.filter((s) => JSON.stringify(s.Resource).includes(`"${bucket}"`));
      const results = onBucket(idOf(stack.lake.results)).flatMap((s) => asList(s.Action));
      expect(results).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject']));
      expect(results).not.toContain('s3:DeleteObject*');
      expect(onBucket(idOf(stack.lake.raw))).toEqual([]);
      expect(onBucket(idOf(stack.lake.warehouse))).toEqual([]);
      const others = statements.filter((s) =>
        asList(s.Action).some((a) => /^(dynamodb|sqs|events|athena|secretsmanager):/.test(a)),
      );
      // Only Lambda's failure destination: a failed invocation's record goes to the stage's queue for them.
      expect(others).toEqual([
        expect.objectContaining({
          Action: 'sqs:SendMessage',
          Resource: arnOf(idOf(stack.deadLetters.failedInvocations)),
        }),
      ]);
    });

    it('leaves the rest of the stage as the topology declares it', () => {
      const rules = resourcesOf(synthesized.template, 'AWS::Events::Rule').map(
        ([, rule]) => propertiesOf(rule).Name,
      );
      for (const [name, declaration] of Object.entries(withConsumer.services)) {
        if (declaration.trigger.kind === 'rule')
          expect(rules).toContain(subscriptionRuleName('fleet-etl-dev', name));
      }
    });
  });

  describe('the local runtime', () => {
    let stateDir: string;

    beforeEach(async () => {
      stateDir = await mkdtemp(path.join(tmpdir(), 'consumer-declaration-'));
    });

    afterEach(async () => {
      await rm(stateDir, { recursive: true, force: true });
    });

    function runtimeOf(declared: TopologyDeclaration): LocalRuntime {
      return new LocalRuntime({
        stateDir,
        queues: 'paused',
        deliveryRetryDelayMs: 1,
        topology: declared,
        ports: {
          // EtlDone reaches the consumers only: nothing plans, downloads or queries here.
          source: {} as FleetSource,
          engine: {} as QueryEngine,
          sqlSource: new FolderSqlSource(BUNDLED_QUERIES),
          clock: systemClock,
          datasets: DATASETS,
          database: 'fleet_etl',
          pageSize: 100,
        },
      });
    }

    const etlDone = {
      runId: validDetails.EtlDone.runId,
      window: validDetails.EtlDone.window,
      files: ['40_avg_seconds_between_measurements.sql'],
      summary: { queryExecutionIds: ['q-1'], dataScannedBytes: 10, durationMs: 5 },
      results: {
        avg_seconds_between_measurements: 'results/run=2026-11-24/avg_seconds_between_measurements.json',
      },
    };
    const result = {
      columns: ['vehicle_type', 'avg_seconds_between_measurements'],
      rows: [{ vehicle_type: 'bus', avg_seconds_between_measurements: 29.8 }],
    };

    it('delivers EtlDone to the declared consumer, which keeps the run in its history', async () => {
      // Prepare
      const runtime = runtimeOf(withConsumer);
      try {
        await runtime.ports.resultsStore.put(
          etlDone.results.avg_seconds_between_measurements,
          JSON.stringify(result),
        );

        // Act
        await publishEvent(runtime.bus, DetailType.EtlDone, etlDone);
        await runtime.settled();
      } finally {
        await runtime.close();
      }

      // Assess
      expect(runtime.consumerNames).toContain('avgHistory');
      expect(runtime.deadLetters).toEqual([]);
      const history = JSON.parse(
        await readFile(
          path.join(
            stateDir,
            'results',
            'history',
            'avg_seconds_between_measurements',
            'run=2026-11-24.json',
          ),
          'utf8',
        ),
      );
      expect(history).toEqual({ runId: etlDone.runId, window: etlDone.window, result });
      // The report, declared the same way, received the same event.
      await expect(
        readFile(path.join(stateDir, 'results', 'reports', 'run=2026-11-24', 'report.json'), 'utf8'),
      ).resolves.toContain('avg_seconds_between_measurements');
    });

    it('dead-letters the events of a consumer whose handler module is not beside its entry, naming the file', async () => {
      const runtime = runtimeOf({
        ...topology,
        services: {
          ...topology.services,
          avgHistory: { ...avgHistory, entry: 'services/nowhere/lambda.ts' },
        },
      });
      try {
        await publishEvent(runtime.bus, DetailType.EtlDone, etlDone);
        await runtime.settled();
      } finally {
        await runtime.close();
      }

      expect(runtime.deadLetters.filter((l) => l.service === 'avgHistory')).toEqual([
        expect.objectContaining({
          service: 'avgHistory',
          reason: expect.stringContaining('services/nowhere/handler.ts'),
        }),
      ]);
    });
  });

  describe('an entry whose publishing does not add up', () => {
    it('fails the synth when it publishes without needing the bus, or needs the bus and publishes nothing', () => {
      const publishing: ServiceDeclaration = { ...avgHistory, publishes: [DetailType.EtlFailed] };
      expect(() =>
        synthesize(testConfig(), {
          topology: { ...topology, services: { ...topology.services, avgHistory: publishing } },
        }),
      ).toThrow(`${FIXTURE}/lambda.ts: publishes EtlFailed but does not need the bus`);
      const silent: ServiceDeclaration = { ...avgHistory, needs: ['bus'] };
      expect(() =>
        synthesize(testConfig(), {
          topology: { ...topology, services: { ...topology.services, avgHistory: silent } },
        }),
      ).toThrow(`${FIXTURE}/lambda.ts: needs the bus but publishes nothing`);
    });
  });
});
