// Preloaded into a process a test runs (`NODE_OPTIONS=--import=<this file>`): every module the main thread's ESM
// loader loads is appended, as its URL, to the file RECORD_MODULE_LOADS names, one line each (record-module-loads-hooks.mjs).
// Plain JavaScript, so that recording needs no TypeScript loader of its own.
import { register } from 'node:module';

if (process.env.RECORD_MODULE_LOADS) {
  register(new URL('./record-module-loads-hooks.mjs', import.meta.url), {
    data: { file: process.env.RECORD_MODULE_LOADS },
  });
}
