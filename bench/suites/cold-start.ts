import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import * as z from 'zod';
import { LAMBDA_RUNTIME } from '../../infra/lambda-runtime.js';
import { type ServiceName, serviceNames } from '../../services/topology.js';
import { LAMBDA_TEST_ENVIRONMENT } from '../../tests/helpers/lambda-environment.js';
import { bundleAsCdkDoes, type LambdaBundle } from '../lib/lambda-bundles.js';
import type { BenchContext, BenchRow, BenchSuite } from '../suite.js';

/**
 * Each Lambda bundle as the CDK app stages it (bench/lib/lambda-bundles.ts: the FleetFunction construct itself runs
 * esbuild), its size on disk and deflated as in the deployment zip, and the time a fresh Node.js process takes to
 * import it: `import()` of the handler module timed inside the child (module loading, evaluation, the handler's
 * clients and configuration built at top level), and the whole process from spawn to exit as the parent sees it.
 * A bare `node -e ""` is measured too, so Node's own start-up can be told apart. Lambda runs the bundles on
 * `${LAMBDA_RUNTIME.name}`; here they run on the machine's Node.js, which the table names: the figures compare
 * bundles with each other and over time, they are not Lambda's init duration (no sandbox, no code download).
 */

const run = promisify(execFile);

const FULL = { services: serviceNames, imports: 7 };
const SMOKE = { services: ['report'] as ServiceName[], imports: 1 };

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
/** The 1-minute load average, so figures measured on a busy machine can be told apart. */
const load = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

const ChildReport = z.object({ importMs: z.number(), readyMs: z.number(), handler: z.string() });

/** `import()` timed in the child; `readyMs` is since the child's time origin (its process start). */
const IMPORT_SCRIPT = `
const file = process.argv[1];
const started = performance.now();
const m = await import(file);
const ready = performance.now();
console.log(JSON.stringify({ importMs: ready - started, readyMs: ready, handler: typeof m.handler }));
`;

async function importOnce(
  bundle: LambdaBundle | undefined,
): Promise<{ importMs: number; readyMs: number; processMs: number }> {
  const started = performance.now();
  const args = bundle === undefined ? ['-e', ''] : ['--input-type=module', '-e', IMPORT_SCRIPT, bundle.entry];
  const { stdout } = await run(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? '',
      ...LAMBDA_TEST_ENVIRONMENT,
      ...(bundle ? { LAMBDA_TASK_ROOT: bundle.assetDir } : {}),
    },
  });
  const processMs = performance.now() - started;
  if (bundle === undefined) return { importMs: 0, readyMs: 0, processMs };
  const report = ChildReport.parse(JSON.parse(stdout.trim()));
  if (report.handler !== 'function') throw new Error(`${bundle.service}: the bundle exports no handler`);
  return { ...report, processMs };
}

/** Every file of the asset folder deflated (zip's method) at zlib's default level, as CDK zips it. */
function sizes(dir: string): { zipped: number } {
  let zipped = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    zipped += deflateRawSync(readFileSync(file)).byteLength;
  }
  return { zipped };
}

async function measure(context: BenchContext): Promise<BenchRow[]> {
  const size = context.smoke ? SMOKE : FULL;
  const bundling = performance.now();
  const { bundles, discard } = bundleAsCdkDoes(size.services);
  context.log(
    `bundled ${bundles.length} entries through FleetFunction in ${((performance.now() - bundling) / 1000).toFixed(1)} s`,
  );
  try {
    const note = `Node ${process.version} here; Lambda runs ${LAMBDA_RUNTIME.name}`;
    const bare: number[] = [];
    for (let i = 0; i < size.imports; i++) bare.push((await importOnce(undefined)).processMs);
    const rows: BenchRow[] = [
      {
        case: 'node -e "" (Node.js start-up alone)',
        figures: { 'process ms': median(bare), runs: size.imports, node: process.version, load: load() },
      },
    ];
    for (const bundle of bundles) {
      const bytes = statSync(bundle.entry).size;
      const { zipped } = sizes(bundle.assetDir);
      const runs = [];
      // Interleaving would be fairer under load, but each bundle's runs back to back keep the page cache warm
      // for every one alike; the first run is not a warm-up: a fresh process pays the same costs each time.
      for (let i = 0; i < size.imports; i++) runs.push(await importOnce(bundle));
      const importMs = median(runs.map((r) => r.importMs));
      context.log(
        `${bundle.service}: ${bytes.toLocaleString('en-US')} bytes, import ${runs.map((r) => r.importMs.toFixed(0)).join(' / ')} ms, load ${load()}`,
      );
      rows.push({
        case: `${bundle.service} (${note})`,
        figures: {
          'bundle bytes': bytes,
          'zip bytes': zipped,
          'import ms': importMs,
          'ready ms': median(runs.map((r) => r.readyMs)),
          'process ms': median(runs.map((r) => r.processMs)),
          runs: size.imports,
          load: load(),
        },
        target: { description: 'bundle under 1 MB (tests/infra/bundles.test.ts)', met: bytes < 1_000_000 },
      });
    }
    return rows;
  } finally {
    discard();
  }
}

export const suite: BenchSuite = {
  name: 'cold-start',
  description:
    'each Lambda bundle as the CDK app stages it: size, zipped size, and the time to import it in a fresh Node.js process (median)',
  run: measure,
};
