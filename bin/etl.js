#!/usr/bin/env node
// The `etl` command. It runs the JavaScript compiled from the TypeScript sources at install (npm's `prepare`:
// bin/build-cli.js), and the sources themselves through tsx when that build is missing or older than they are, so
// what runs is always what the sources say (bin/cli-build.js, docs/decisions/0086-etl-runs-compiled-javascript.md).
import { importEntry } from './cli-build.js';
import { wasmOnBaselineCompilerOnly } from './wasm-baseline.js';

// Before anything loads WebAssembly (bin/wasm-baseline.js, docs/decisions/0051-webassembly-without-tier-up.md).
wasmOnBaselineCompilerOnly();

// Last line of defence: if the event loop empties while a command is still awaited (a wake-up that nothing keeps
// alive), Node would end the process with exit code 13 and no word. Say so and fail with 1 instead.
let finished = false;
process.once('beforeExit', () => {
  if (finished) return;
  process.stderr.write(
    'etl: stopped before the command finished: nothing was left that could wake it. This is a bug in etl, ' +
      "not in the data or the API; the services' log is in <state-dir>/logs/services.ndjson.\n",
  );
  process.exitCode = 1;
});
// `etl events | head -1`: the reader may close the pipe before etl has written everything. Node reports that as an
// EPIPE error on the stream, which with no listener ends the process with a stack trace. What is left to write has
// no reader, so it is dropped; the command finishes its work (a night stopped halfway would have to be resumed)
// and exits with its own code. Any other error on the streams still ends the process.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const { main } = await importEntry('etl');
process.exitCode = await main(process.argv.slice(2));
finished = true;
