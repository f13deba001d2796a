import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { LAMBDA_RUNTIME } from '../../infra/lambda-runtime.js';
import { serviceNames, topology } from '../../services/topology.js';
import { importHandler } from '../helpers/import-handler.js';
import { LAMBDA_TEST_ENVIRONMENT as lambdaEnvironment } from '../helpers/lambda-environment.js';

const outdir = mkdtempSync(path.join(tmpdir(), 'bundles-'));

async function bundle(service: (typeof serviceNames)[number]): Promise<string> {
  const outfile = path.join(outdir, `${service}.mjs`);
  await build({
    entryPoints: [topology.services[service].entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_RUNTIME.esbuildTarget,
    // ESM bundles need a require() for the CommonJS dependencies they inline.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  return outfile;
}

describe.each(serviceNames)('the %s Lambda bundle', (service) => {
  let file: string;

  beforeAll(async () => {
    file = await bundle(service);
  }, 60_000);

  it('bundles for the Lambda runtime and exports a handler function', async () => {
    expect(statSync(file).size).toBeGreaterThan(0);
    const { stdout } = await importHandler(file, lambdaEnvironment);
    expect(stdout.trim()).toBe('function');
  }, 30_000);

  it('refuses to start without its configuration, naming the missing variables', async () => {
    await expect(importHandler(file, {})).rejects.toMatchObject({
      stderr: expect.stringMatching(/invalid environment/),
    });
  }, 30_000);
});
