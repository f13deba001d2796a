import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, AssetStaging, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { FleetFunction } from '../../infra/aws/constructs/fleet-function.js';
import { BUNDLED_QUERIES_DIR } from '../../infra/lambda-runtime.js';
import { type ServiceName, topology } from '../../infra/topology.js';

export interface LambdaBundle {
  service: ServiceName;
  /** The asset folder CDK zips for the function: `index.mjs`, and `queries/` for the query runner. */
  assetDir: string;
  /** The handler module Lambda imports. */
  entry: string;
}

/**
 * Bundles the services' Lambda entries through the CDK app's own FleetFunction construct, so the bundles are
 * exactly those `cdk synth` stages (same esbuild options, banner, target, minification, copied folders): the
 * construct runs the local esbuild while it is created. One function per service in a bare stack: the rest of
 * the app (queues, buckets, grants) changes environment variables, not code.
 */
export function bundleAsCdkDoes(services: readonly ServiceName[]): {
  bundles: LambdaBundle[];
  /** Removes the staged bundles. */
  discard(): void;
} {
  const outdir = mkdtempSync(path.join(tmpdir(), 'bench-bundles-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'BenchBundles');
  const bundles = services.map((service) => {
    const declaration = topology.services[service];
    const needs: readonly string[] = declaration.needs;
    const fn = new FleetFunction(stack, service, {
      declaration,
      logRetention: RetentionDays.ONE_DAY,
      removalPolicy: RemovalPolicy.DESTROY,
      bundledFolders: needs.includes('sqlSource') ? [BUNDLED_QUERIES_DIR] : [],
    });
    const staging = fn.node.findAll().find((c): c is AssetStaging => c instanceof AssetStaging);
    if (staging === undefined) throw new Error(`${service}: CDK staged no code asset`);
    return {
      service,
      assetDir: staging.absoluteStagedPath,
      entry: path.join(staging.absoluteStagedPath, 'index.mjs'),
    };
  });
  return { bundles, discard: () => rmSync(outdir, { recursive: true, force: true }) };
}

/**
 * Every variable some entry reads, with harmless values (as tests/integration/lambda-bundles.test.ts sets them):
 * importing a bundle must not touch the network.
 */
export const LAMBDA_TEST_ENVIRONMENT: Readonly<Record<string, string>> = {
  AWS_REGION: 'eu-west-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  EVENT_BUS_NAME: 'fleet-etl',
  TASKS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks',
  PAGE_SIZE: '50000',
  FLEET_API_BASE_URL: 'https://fleet.example.com',
  FLEET_API_TOKEN_URL: 'https://fleet.example.com/oauth/token',
  FLEET_API_CLIENT_ID: 'fleet-etl',
  FLEET_API_SECRET_ID: 'fleet-etl/api',
  RAW_BUCKET: 'raw',
  WAREHOUSE_BUCKET: 'warehouse',
  RESULTS_BUCKET: 'results',
  RUN_LEDGER_TABLE: 'ledger',
  GLUE_DATABASE: 'fleet_etl',
  ATHENA_WORKGROUP: 'fleet-etl',
  DOWNLOADER_MAX_CONCURRENCY: '4',
  MAX_RECEIVE_COUNT: String(topology.queues.tasks.maxReceiveCount),
};
