// The simulator thread's entry (simulator-worker.ts). Worker threads share neither modules nor loader hooks with
// the thread that starts them, so this one loads simulator-thread.ts for itself, compiled or through tsx, as
// bin/etl.js does (bin/cli-build.js).
import { importEntry } from '../bin/cli-build.js';

await importEntry('simulator-thread');
