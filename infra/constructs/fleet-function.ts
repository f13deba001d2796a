import path from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  RuntimeFamily,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { Charset, LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ServiceDeclaration } from '../../services/topology.js';
import { LAMBDA_RUNTIME } from '../lambda-runtime.js';
import { acknowledge } from '../nag.js';
import { fromRepositoryRoot, REPOSITORY_ROOT } from '../repository.js';

/** The Lambda runtime named in infra/lambda-runtime.ts, the one place the bundle tests read too. */
const FUNCTION_RUNTIME = new Runtime(LAMBDA_RUNTIME.name, RuntimeFamily.NODEJS, {
  supportsInlineCode: true,
});

/**
 * ESM bundles inline CommonJS dependencies that call require(); ESM has no require, so the bundle makes one
 * (https://esbuild.github.io/api/#format-esm). Same banner as tests/integration/lambda-bundles.test.ts.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * The only actions any role of the app is granted on Resource "*", and why: X-Ray has no resource-level
 * permissions (https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html). Active
 * tracing adds them to every function's role; tests/infra fails on any other "*".
 */
export const UNSCOPED_ACTIONS: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments': 'X-Ray offers no resource-level permissions',
  'xray:PutTelemetryRecords': 'X-Ray offers no resource-level permissions',
};

export interface FleetFunctionProps {
  /** The service as services/topology.ts declares it: entry, description, timeout, memory. */
  declaration: ServiceDeclaration;
  logRetention: RetentionDays;
  /** The stage's key, which encrypts the function's log group. */
  logKey: IKey;
  /** Applies to the function's log group. */
  removalPolicy: RemovalPolicy;
  /** Where the function's EMF metrics go (`FleetEtl/<stage>`), read by Powertools Metrics. */
  metricsNamespace: string;
  /**
   * Folders of the repository copied next to the handler in the bundle (the query runner's `queries/`, read at
   * `$LAMBDA_TASK_ROOT/queries`).
   */
  bundledFolders?: readonly string[];
}

/**
 * Every service's function with the house defaults, set here once: the entry bundled by the local esbuild as
 * minified ESM with the AWS SDK v3 clients inside (the lock file pins them), arm64, the runtime of
 * infra/lambda-runtime.ts, timeout and memory from the topology, X-Ray tracing, JSON logs into a log group with
 * a retention, and a role of its own that starts with nothing but writing to that log group.
 */
export class FleetFunction extends NodejsFunction {
  /** The function's own role; grants and their cdk-nag acknowledgements go to it. */
  readonly executionRole: Role;

  constructor(scope: Construct, id: string, props: FleetFunctionProps) {
    const { declaration } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: props.removalPolicy,
    });
    // An own role rather than the default one: the default attaches AWSLambdaBasicExecutionRole, which lets
    // the function write to any log group (Resource "*").
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `fleet-etl ${id}: ${declaration.description}`.slice(0, 1000),
    });
    const copies = (props.bundledFolders ?? []).map((folder) => ({
      from: fromRepositoryRoot(folder),
      to: folder,
    }));
    super(scope, id, {
      entry: fromRepositoryRoot(declaration.entry),
      handler: 'handler',
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: fromRepositoryRoot('package-lock.json'),
      description: declaration.description.slice(0, 256),
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: Duration.seconds(declaration.timeoutSeconds),
      memorySize: declaration.memoryMb,
      role,
      logGroup,
      environment: { POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace },
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      bundling: {
        format: OutputFormat.ESM,
        target: LAMBDA_RUNTIME.esbuildTarget,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        // Function names survive minification, so a stack trace in the logs reads `at downloadPage` rather than
        // `at a`: +35–39 KB per bundle (~6%), nothing at run time. Source maps (sourceMap + NODE_OPTIONS=
        // --enable-source-maps) would also give file and line, for +2.6–3.2 MB per function and a slower cold start
        // (decision 83).
        keepNames: true,
        charset: Charset.UTF8,
        // Warnings and errors only: the bundle sizes are measured by tests/infra/bundles.test.ts.
        logLevel: LogLevel.WARNING,
        // The clients go into the bundle: the versions the lock file pins are the ones the tests ran.
        bundleAwsSDK: true,
        // Never Docker: the esbuild of node_modules bundles on any machine, CI included.
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) =>
            copies.map(
              ({ from, to }) => `cp -R ${JSON.stringify(from)} ${JSON.stringify(path.join(outputDir, to))}`,
            ),
        },
      },
    });
    this.executionRole = role;
    logGroup.grantWrite(role);
    // Active tracing adds UNSCOPED_ACTIONS on "*" to the role.
    acknowledge(
      role,
      ['AwsSolutions-IAM5[Resource::*]'],
      'Only the X-Ray tracing statement (xray:PutTraceSegments, xray:PutTelemetryRecords): X-Ray offers no ' +
        'resource-level permissions. tests/infra checks that no other statement uses Resource "*".',
    );
  }
}
