import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import fc from 'fast-check';
import {
  CONFIG_FILE_CONTEXT_KEY,
  CONTEXT_KEY,
  configFromContext,
  DeploymentConfigError,
} from '../../infra/config.js';
import { TasksQueue } from '../../infra/constructs/tasks-queue.js';
import { InvalidDeploymentError } from '../../infra/errors.js';
import { patternRule } from '../../infra/event-pattern.js';
import { addAwsSolutionsChecks } from '../../infra/fleet-etl-app.js';
import {
  githubSqlSourceEnvironment,
  sqlSourceConfigFromEnv,
} from '../../services/adapters/sql-source-config.js';
import { downloaderScaling } from '../../services/source-config/index.js';
import { topology } from '../../services/topology.js';
import { entryVariables, parsedVariables } from './helpers/environment.js';
import { resolveValue } from './helpers/resolve.js';
import { cdkJsonContext, discard, type Synthesized, synthesize, testConfig } from './helpers/synth.js';
import { identityStatements, idOf, propertiesOf, resourcesOf } from './helpers/template.js';

const contextApp = (context: Record<string, unknown>) => new App({ context });

describe('configuration from CDK context', () => {
  it('takes cdk.json as it is, with the topology as the default schedule and archive retention', () => {
    const config = configFromContext(contextApp(cdkJsonContext).node);
    expect(config).toMatchObject({
      stage: 'dev',
      schedule: topology.services.planner.trigger.expression,
      archiveRetentionDays: topology.bus.archiveRetentionDays,
      sqlSource: { kind: 'bundled' },
      removalPolicy: 'retain',
      fleetApi: { pageSize: 50_000 },
    });
    expect(config.alarmEmail).toBeUndefined();
  });

  it('layers a config file and single -c settings over the context object, coercing -c strings', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'fleet-etl-config-'));
    const file = path.join(folder, 'prod.json');
    writeFileSync(
      file,
      JSON.stringify({ stage: 'prod', alarmEmail: 'data@example.com', archiveRetentionDays: 90 }),
    );
    const config = configFromContext(
      contextApp({
        ...cdkJsonContext,
        [CONFIG_FILE_CONTEXT_KEY]: file,
        [`${CONTEXT_KEY}:fleetApi.pageSize`]: '10000',
        [`${CONTEXT_KEY}:schedule`]: 'cron(30 2 * * ? *)',
        [`${CONTEXT_KEY}:archiveRetentionDays`]: '365',
      }).node,
    );
    expect(config).toMatchObject({
      stage: 'prod',
      alarmEmail: 'data@example.com',
      schedule: 'cron(30 2 * * ? *)',
      archiveRetentionDays: 365,
      fleetApi: { pageSize: 10_000, clientId: 'fleet-etl' },
    });
  });

  it('refuses a bad setting, naming it', () => {
    const attempt = () =>
      configFromContext(
        contextApp({
          ...cdkJsonContext,
          [`${CONTEXT_KEY}:fleetApi.baseUrl`]: 'http://plain-http.example.com',
          [`${CONTEXT_KEY}:logRetentionDays`]: '31',
        }).node,
      );
    expect(attempt).toThrow(DeploymentConfigError);
    expect(attempt).toThrow(/fleetApi\.baseUrl/);
    expect(attempt).toThrow(/logRetentionDays/);
  });

  it('needs the fleet API settings: there is no sensible default for them', () => {
    expect(() => configFromContext(contextApp({}).node)).toThrow(/fleetApi/);
  });
});

describe('a GitHub SQL source: the synth checks it as the query runner checks it at cold start', () => {
  const github = (settings: Record<string, unknown>) =>
    testConfig({ sqlSource: { kind: 'github', owner: 'acme', repo: 'fleet-sql', ...settings } });

  it.each([
    [{ owner: '-acme' }, /owner: a GitHub user or organisation name\s+→ at sqlSource\.owner/],
    [{ owner: 'ac--me' }, /sqlSource\.owner/],
    [{ repo: '..' }, /repo: not \. or \.\.\s+→ at sqlSource\.repo/],
    [{ branch: 'release..1' }, /not a valid git branch name\s+→ at sqlSource\.branch/],
    [{ branch: 'main.lock' }, /sqlSource\.branch/],
    [{ path: '../other-repo' }, /path: no \. or \.\. segments\s+→ at sqlSource\.path/],
    [{ path: 'sql?ref=evil' }, /sqlSource\.path/],
  ])('fails the synth on %p, which the runner refuses too, naming the setting', (settings, message) => {
    expect(() => github(settings)).toThrow(DeploymentConfigError);
    expect(() => github(settings)).toThrow(message);
  });

  it('gives the runner an environment it reads back as the same folder, for any folder the synth accepts', () => {
    // Plain names, and strings near GitHub's rules: dots, dashes and slashes, runs of them, leading and trailing.
    const part = fc.oneof(
      fc.stringMatching(/^[a-zA-Z0-9]{1,8}$/),
      fc.stringMatching(/^[-./a-zA-Z0-9 _?]{0,12}$/),
    );
    let accepted = 0;
    fc.assert(
      fc.property(part, part, part, part, (owner, repo, branch, folder) => {
        let config: ReturnType<typeof github>;
        try {
          config = github({ owner, repo, branch, path: folder });
        } catch (error) {
          if (error instanceof DeploymentConfigError) return;
          throw error;
        }
        accepted += 1;
        if (config.sqlSource.kind !== 'github') throw new Error('not a GitHub source');
        const { owner: o, repo: r, branch: b, path: p } = config.sqlSource;
        expect(sqlSourceConfigFromEnv(githubSqlSourceEnvironment(config.sqlSource), '/q')).toEqual({
          kind: 'github',
          folder: { owner: o, repo: r, branch: b, path: p },
        });
      }),
      { numRuns: 500 },
    );
    expect(accepted).toBeGreaterThan(50);
  });
});

describe('guards', () => {
  it('refuses a tasks queue that would hide a task for less than six times the consumer timeout', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }));
    expect(
      () =>
        new TasksQueue(stack, 'Tasks', {
          key: new Key(stack, 'Key'),
          settings: { ...topology.queues.tasks, visibilityTimeoutSeconds: 5 * 120 },
          consumerTimeout: Duration.seconds(120),
        }),
    ).toThrow(InvalidDeploymentError);
  });

  it('writes a rule pattern exactly as given, fields CDK does not type included', () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }));
    const pattern = { source: ['fleet-etl'], 'detail-type': ['EtlDone'], 'replay-name': [{ exists: false }] };
    patternRule(stack, 'Rule', { eventBus: new EventBus(stack, 'Bus'), description: 'test', pattern });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { EventPattern: pattern });
  });
});

describe('a production-like stage: SQL from GitHub, no alarm email, throwaway data, pinned environment', () => {
  let synthesized: Synthesized;

  beforeAll(() => {
    synthesized = synthesize(
      testConfig({
        stage: 'prod-eu',
        account: '123456789012',
        region: 'eu-west-1',
        schedule: 'cron(30 2 * * ? *)',
        removalPolicy: 'destroy',
        sqlSource: { kind: 'github', owner: 'acme', repo: 'fleet-sql', branch: 'release', path: 'athena' },
      }),
      { cloudFormationValidation: false },
    );
  }, 60_000);

  afterAll(() => discard(synthesized));

  it('tells the query runner where the SQL files are and which secret holds the token', () => {
    const fn = synthesized.stack.services.functions.get('queryRunner');
    if (fn === undefined) throw new Error('no query runner');
    const [, resource] =
      resourcesOf(synthesized.template, 'AWS::Lambda::Function').find(([id]) =>
        id.startsWith('ServicesQueryRunner'),
      ) ?? [];
    if (resource === undefined) throw new Error('no query runner resource');
    const env = (propertiesOf(resource).Environment as { Variables: Record<string, unknown> }).Variables;
    const token = synthesized.stack.secrets.githubToken;
    if (token === undefined) throw new Error('no GitHub token secret');
    expect(env).toMatchObject({
      SQL_SOURCE: 'github',
      GITHUB_OWNER: 'acme',
      GITHUB_REPO: 'fleet-sql',
      GITHUB_BRANCH: 'release',
      GITHUB_PATH: 'athena',
      GITHUB_TOKEN_SECRET_ID: { Ref: expect.stringMatching(/^SecretsGitHubToken/) },
      GLUE_DATABASE: 'fleet_etl_prod_eu',
      ATHENA_WORKGROUP: 'fleet-etl-prod-eu',
    });
    synthesized.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'fleet-etl/prod-eu/github-token',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EncryptionKey'), 'Arn'] },
    });
  });

  it('sets the query runner only variables its entry reads, and the SQL source it reads back from them', () => {
    const [, resource] =
      resourcesOf(synthesized.template, 'AWS::Lambda::Function').find(([id]) =>
        id.startsWith('ServicesQueryRunner'),
      ) ?? [];
    if (resource === undefined) throw new Error('no query runner resource');
    const variables = (propertiesOf(resource).Environment as { Variables: Record<string, unknown> })
      .Variables;
    const parsed = parsedVariables(topology.services.queryRunner);
    expect(entryVariables(variables).filter((name) => !parsed.names.includes(name))).toEqual([]);
    const env = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, resolveValue(synthesized.template, value)]),
    );
    expect(sqlSourceConfigFromEnv(env, '/q')).toEqual({
      kind: 'github',
      folder: { owner: 'acme', repo: 'fleet-sql', branch: 'release', path: 'athena' },
      tokenSecretId: expect.any(String),
    });
  });

  it('uses the configured schedule and creates no email subscription', () => {
    synthesized.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 2 * * ? *)',
    });
    synthesized.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('deletes data with the stack when asked to', () => {
    for (const [, bucket] of resourcesOf(synthesized.template, 'AWS::S3::Bucket')) {
      expect((bucket as { DeletionPolicy?: string }).DeletionPolicy).toBe('Delete');
    }
  });

  it('is pinned to the configured account and region', () => {
    expect(synthesized.stack.account).toBe('123456789012');
    expect(synthesized.stack.region).toBe('eu-west-1');
    expect(synthesized.stack.stackName).toBe('fleet-etl-prod-eu');
  });
});

describe('a stage with its own API shape and rate budget', () => {
  /** The source configuration of `etl run --source`, without a secret name: the stack's secret is used. */
  const source = {
    baseUrl: 'https://fleet.acme.example',
    auth: { type: 'oauth2-client-credentials', tokenUrl: '/auth/token', clientId: 'acme-etl' },
    query: { from: 'createdFrom', to: 'createdTo' },
    datasets: { vehicles: { endpoint: '/api/vehicles' }, sensors: { endpoint: '/api/readings' } },
  };
  const rateBudget = { maxConcurrentRequests: 16, requestsPerSecond: 40 };
  let synthesized: Synthesized;

  beforeAll(() => {
    synthesized = synthesize(testConfig({ stage: 'acme', source, rateBudget }), {
      cloudFormationValidation: false,
    });
  }, 60_000);

  afterAll(() => discard(synthesized));

  const environmentOf = (prefix: string): Record<string, unknown> => {
    const [, resource] =
      resourcesOf(synthesized.template, 'AWS::Lambda::Function').find(([id]) => id.startsWith(prefix)) ?? [];
    if (resource === undefined) throw new Error(`no function ${prefix}`);
    return (propertiesOf(resource).Environment as { Variables: Record<string, unknown> }).Variables;
  };

  it("gives the planner and the downloader the source in FLEET_SOURCE_CONFIG, naming the stack's secret", () => {
    const secretArn = resolveValue(synthesized.template, {
      Ref: idOf(synthesized.stack.secrets.fleetApiClientSecret),
    });
    for (const prefix of ['ServicesPlanner', 'ServicesDownloader']) {
      const variable = environmentOf(prefix).FLEET_SOURCE_CONFIG;
      expect(variable).toBeDefined();
      expect(JSON.parse(resolveValue(synthesized.template, variable))).toEqual({
        ...source,
        auth: { ...source.auth, clientSecretName: secretArn },
        rateBudget,
      });
    }
  });

  it('sizes the queue for the budget: as many downloaders at once as the budget allows, each told so', () => {
    const { maxConcurrency } = downloaderScaling(rateBudget, topology.services.downloader.trigger.batchSize);
    expect(maxConcurrency).not.toBe(topology.services.downloader.trigger.maxConcurrency);
    synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: maxConcurrency },
    });
    expect(environmentOf('ServicesDownloader').DOWNLOADER_MAX_CONCURRENCY).toBe(String(maxConcurrency));
  });

  it('gives the seed-shaped API the configured budget too, without a source', () => {
    const budgetOnly = synthesize(testConfig({ stage: 'budget', rateBudget }), {
      cloudFormationValidation: false,
    });
    try {
      const [, planner] =
        resourcesOf(budgetOnly.template, 'AWS::Lambda::Function').find(([id]) =>
          id.startsWith('ServicesPlanner'),
        ) ?? [];
      const env = (
        propertiesOf(planner ?? { Type: '' }).Environment as { Variables: Record<string, unknown> }
      ).Variables;
      const deployed = JSON.parse(resolveValue(budgetOnly.template, env.FLEET_SOURCE_CONFIG));
      expect(deployed).toMatchObject({
        baseUrl: testConfig().fleetApi.baseUrl,
        auth: { tokenUrl: testConfig().fleetApi.tokenUrl, clientId: testConfig().fleetApi.clientId },
        rateBudget,
      });
    } finally {
      discard(budgetOnly);
    }
  });

  it('grants the secrets a source sends as headers, by name or ARN, to the functions that call the API only', () => {
    // Prepare: an API key read by name for every dataset, a tenant header, and one dataset's own key by ARN.
    const keyArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/readings-key-AbCdEf';
    const withHeaders = {
      ...source,
      headers: { 'x-api-key': { secretName: 'acme/api-key' }, 'x-tenant': 'acme' },
      datasets: {
        ...source.datasets,
        sensors: { ...source.datasets.sensors, headers: { 'x-readings-key': { secretName: keyArn } } },
      },
    };
    // Act: the synth runs cdk-nag and fails on any unacknowledged finding.
    const headers = synthesize(testConfig({ stage: 'headers', source: withHeaders }), {
      cloudFormationValidation: false,
    });
    try {
      // Assess: GetSecretValue on each header secret, for the planner's and downloader's roles, nobody else's.
      const readers = (fragment: string) =>
        identityStatements(headers.template)
          .filter(({ statement }) => {
            const actions = [statement.Action ?? []].flat();
            const resources = [statement.Resource ?? []].flat().map((r) => resolveValue(headers.template, r));
            return (
              actions.includes('secretsmanager:GetSecretValue') && resources.some((r) => r.includes(fragment))
            );
          })
          .map(({ owner }) => owner.replace(/ServiceRole.*$/, ''))
          .sort();
      const apiCallers = [
        expect.stringMatching(/^ServicesDownloader/),
        expect.stringMatching(/^ServicesPlanner/),
      ];
      expect(readers(':secret:acme/api-key-??????')).toEqual(apiCallers);
      expect(readers(keyArn)).toEqual(apiCallers);
    } finally {
      discard(headers);
    }
  }, 60_000);

  it('refuses a source that does not parse, or that names a secret of its own, naming the setting', () => {
    expect(() => testConfig({ source: { ...source, datasets: {} } })).toThrow(/source/);
    expect(() =>
      testConfig({ source: { ...source, auth: { ...source.auth, clientSecretName: 'elsewhere' } } }),
    ).toThrow(/source\.auth\.clientSecretName/);
    expect(() => testConfig({ rateBudget: { maxConcurrentRequests: 1, requestsPerSecond: 5 } })).toThrow(
      /rateBudget/,
    );
  });
});

describe('cdk-nag is enforced', () => {
  it('fails the synth on a finding nobody acknowledged', () => {
    const app = new App({ context: cdkJsonContext, builtinCloudFormationValidation: false });
    new Queue(new Stack(app, 'Naked'), 'Unencrypted', { enforceSSL: false });
    addAwsSolutionsChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });
});
