#!/usr/bin/env node
// The `etl` command runs the TypeScript sources directly through tsx, so what developers edit is what runs.
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// WebAssembly in this process (the 20 MB SQL transpiler, fetch's HTTP parser) runs on V8's baseline compiler
// only. With tier-up, V8 recompiles the transpiler's hot functions on background threads that compete with the
// pipeline for the machine's cores, and waits for them at exit: a million-row `etl run` took 2-3 s longer.
// The transpiler runs a few statements per night, so its slower baseline code costs milliseconds
// (docs/decisions/0051-webassembly-without-tier-up.md).
setFlagsFromString('--liftoff-only');

register();
const { main } = await import('../infra/local/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
