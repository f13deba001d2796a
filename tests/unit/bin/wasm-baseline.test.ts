/**
 * `etl` keeps WebAssembly on V8's baseline compiler (bin/wasm-baseline.js, decisions 51 and 903). The flags are set
 * at run time, and which one V8 honours then differs between Node.js versions (Node.js 24 ignored `--liftoff-only`
 * and tiered the transpiler up), so this checks on the running version, in a fresh process, that a hot WebAssembly
 * function stays on the baseline compiler with etl's flags and reaches the optimising one without them.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FLAGS = pathToFileURL(path.resolve('bin/wasm-baseline.js')).href;

/**
 * `(func (export "f") (param i32) (result i32) (local i32) loop: local1 += local0; local0 -= 1; br_if local0)`: a
 * loop hot enough that V8 tiers it up within milliseconds when it may.
 */
const MODULE = [
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f, 3, 2, 1, 0, 7, 5, 1, 1, 0x66, 0, 0, 0x0a,
  0x1d, 1, 0x1b, 1, 1, 0x7f, 3, 0x40, 0x20, 1, 0x20, 0, 0x6a, 0x21, 1, 0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x20,
  0, 0x0d, 0, 0x0b, 0x20, 1, 0x0b,
];

/** Runs the loop hot for up to `ms` (less once it is optimised) and says which compiler its code came from. */
async function tierAfterHotLoop(withEtlFlags: boolean, ms: number): Promise<string> {
  const script = `
    import { wasmOnBaselineCompilerOnly } from ${JSON.stringify(FLAGS)};
    if (${withEtlFlags}) wasmOnBaselineCompilerOnly();
    const { instance } = await WebAssembly.instantiate(new Uint8Array(${JSON.stringify(MODULE)}));
    const f = instance.exports.f;
    if (f(10) !== 55) throw new Error('the module computes something else');
    const started = Date.now();
    while (Date.now() - started < ${ms} && !%IsTurboFanFunction(f)) {
      for (let i = 0; i < 200; i++) f(10000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    process.stdout.write(%IsTurboFanFunction(f) ? 'optimised' : 'baseline');
  `;
  const { stdout } = await run(process.execPath, [
    '--allow-natives-syntax',
    '--input-type=module',
    '-e',
    script,
  ]);
  return stdout;
}

describe('WebAssembly on the baseline compiler', () => {
  it(`reaches the optimising compiler without etl's flags on this Node.js (${process.version})`, async () => {
    expect(await tierAfterHotLoop(false, 10_000)).toBe('optimised');
  }, 30_000);

  it(`stays on the baseline compiler with etl's flags on this Node.js (${process.version})`, async () => {
    expect(await tierAfterHotLoop(true, 1_500)).toBe('baseline');
  }, 30_000);
});
