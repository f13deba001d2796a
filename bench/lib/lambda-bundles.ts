import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, AssetStaging, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { FleetFunction } from '../../infra/constructs/fleet-function.js';
import { BUNDLED_QUERIES_DIR } from '../../infra/lambda-runtime.js';
import { type ServiceName, topology } from '../../services/topology.js';

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
  // Every function's log group is encrypted with a stage key; the key changes the template, not the bundle.
  const logKey = new Key(stack, 'LogKey');
  const bundles = services.map((service) => {
    const declaration = topology.services[service];
    const needs: readonly string[] = declaration.needs;
    const fn = new FleetFunction(stack, service, {
      declaration,
      logRetention: RetentionDays.ONE_DAY,
      logKey,
      removalPolicy: RemovalPolicy.DESTROY,
      metricsNamespace: 'FleetEtl/bench',
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
