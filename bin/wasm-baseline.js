// WebAssembly in `etl` (the 20 MB SQL transpiler, fetch's HTTP parser) runs on V8's baseline compiler only. With
// tier-up, V8 recompiles the transpiler's hot functions on background threads that compete with the pipeline for
// the machine's cores, and waits for them at exit: a million-row `etl run` took 2-3 s longer. The transpiler runs a
// few statements per night, so its slower baseline code costs milliseconds
// (docs/decisions/0051-webassembly-without-tier-up.md).
//
// Two flags, because V8 honours a different one when it is set at run time: `--liftoff-only` up to Node.js 22;
// Node.js 24's V8 ignores it unless it is given on the command line, which `npx etl` and the npm bin shims cannot
// do, and tiered the transpiler up anyway (+0.9 s of CPU and +300 MB on a default night). There, tier-up is limited
// to a function index no module has, which leaves every function on the baseline compiler (decision 94).
// tests/unit/cli-build/wasm-baseline.test.ts checks that no version tiers up.
import { setFlagsFromString } from 'node:v8';

/** A function index beyond any module's (the flag takes a 32-bit int). */
const NO_FUNCTION = 2 ** 31 - 1;

export function wasmOnBaselineCompilerOnly() {
  setFlagsFromString('--liftoff-only');
  setFlagsFromString(`--wasm-tier-up-filter=${NO_FUNCTION}`);
}
