import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { ESM_REQUIRE_BANNER } from '../../infra/constructs/fleet-function.js';
import { BUNDLED_QUERIES_DIR } from '../../infra/lambda-runtime.js';
import { fromRepositoryRoot } from '../../infra/repository.js';
import { type ServiceName, serviceNames } from '../../services/topology.js';
import { importHandler } from '../helpers/import-handler.js';
import { FAKE_REGION, resolveValue } from './helpers/resolve.js';
import { discard, type Synthesized, synthesize, testConfig } from './helpers/synth.js';
import type { CfnResource } from './helpers/template.js';

/** The target: each minified bundle, AWS SDK clients included, under 1 MB. */
const MAX_BUNDLE_BYTES = 1_000_000;

/** Each service's core function, whose name a stack trace through it shows only if the bundle kept it. */
const CORE_FUNCTIONS: Record<ServiceName, string> = {
  planner: 'planPages',
  downloader: 'downloadPage',
  completionTracker: 'trackCompletion',
  queryRunner: 'runNextFile',
  report: 'writeReport',
};

let synthesized: Synthesized;

beforeAll(() => {
  // The real thing: local esbuild through NodejsFunction, as `cdk synth` runs it.
  synthesized = synthesize(testConfig(), { bundle: true, cloudFormationValidation: false });
}, 120_000);

afterAll(() => discard(synthesized));

function functionResource(service: ServiceName): CfnResource {
  const fn = synthesized.stack.services.functions.get(service);
  if (fn === undefined) throw new Error(`no function for ${service}`);
  const id = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement);
  return synthesized.template.toJSON().Resources[id] as CfnResource;
}

/** The asset folder of the function's code in the cloud assembly (`asset.<hash>` for `<hash>.zip`). */
function assetDir(service: ServiceName): string {
  const code = functionResource(service).Properties?.Code as { S3Key: string };
  return path.join(synthesized.assemblyDir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
}

/** The function's environment as a deployment would set it, with made-up physical names. */
function environmentOf(service: ServiceName): Record<string, string> {
  const variables = (
    functionResource(service).Properties?.Environment as { Variables?: Record<string, unknown> }
  )?.Variables;
  return Object.fromEntries(
    Object.entries(variables ?? {}).map(([name, value]) => [name, resolveValue(synthesized.template, value)]),
  );
}

describe.each(serviceNames)('the %s function bundle', (service) => {
  const bundle = () => path.join(assetDir(service), 'index.mjs');

  it('is minified ESM with the require banner, AWS SDK inside, under 1 MB', () => {
    const text = readFileSync(bundle(), 'utf8');
    expect(text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(text).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(statSync(bundle()).size).toBeLessThan(MAX_BUNDLE_BYTES);
  });

  it('starts with the environment the stack gives it, exporting a handler', async () => {
    const { stdout } = await importHandler(bundle(), {
      ...environmentOf(service),
      AWS_REGION: FAKE_REGION,
      LAMBDA_TASK_ROOT: assetDir(service),
    });
    expect(stdout.trim()).toBe('function');
  }, 30_000);

  it('keeps function names for stack traces, and carries no X-Ray SDK (decision 83)', () => {
    const text = readFileSync(bundle(), 'utf8');
    // esbuild's keepNames records each function's name as a string: `__name(planPages, "planPages")`.
    expect(text).toContain(`"${CORE_FUNCTIONS[service]}"`);
    expect(text).not.toMatch(/aws-xray-sdk|AWSXRay/);
  });

  it('is given only variables its code reads', () => {
    const text = readFileSync(bundle(), 'utf8');
    for (const name of Object.keys(environmentOf(service)))
      expect({ name, read: text.includes(name) }).toEqual({ name, read: true });
  });
});

describe('the query runner bundle', () => {
  it('carries the queries/ folder next to the handler, where QUERIES_DIR points by default', () => {
    const bundled = path.join(assetDir('queryRunner'), BUNDLED_QUERIES_DIR);
    expect(existsSync(bundled)).toBe(true);
    const sqlFiles = (folder: string) =>
      readdirSync(folder)
        .filter((name) => name.endsWith('.sql'))
        .sort();
    expect(sqlFiles(bundled)).toEqual(sqlFiles(fromRepositoryRoot(BUNDLED_QUERIES_DIR)));
    for (const file of sqlFiles(bundled)) {
      expect(readFileSync(path.join(bundled, file), 'utf8')).toBe(
        readFileSync(fromRepositoryRoot(BUNDLED_QUERIES_DIR, file), 'utf8'),
      );
    }
    expect(environmentOf('queryRunner').QUERIES_DIR).toBeUndefined();
  });

  it('is the only bundle with SQL files', () => {
    for (const service of serviceNames.filter((name) => name !== 'queryRunner')) {
      expect(existsSync(path.join(assetDir(service), BUNDLED_QUERIES_DIR))).toBe(false);
    }
  });
});
