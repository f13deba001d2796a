#!/usr/bin/env node
// npm's postinstall. The local state store (services/adapters/local/sqlite) runs on Node's built-in node:sqlite
// where it exists (Node 22.13 and later) and on the better-sqlite3 addon only where it does not (Node 20). The
// addon is a native build (80 s to 6 min on two cores, a C++ toolchain and the Node headers), so npm is not
// allowed to run its install script (package.json "allowScripts") and this builds it only on a Node that needs
// it (docs/decisions/0072-sqlite-binding-per-node-version.md).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function hasNodeSqlite() {
  // Node 22 announces node:sqlite with an ExperimentalWarning; it says nothing useful during an install.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return process.getBuiltinModule?.('node:sqlite') !== undefined;
  } catch {
    return false;
  } finally {
    process.emitWarning = emitWarning;
  }
}

function addonLoads() {
  try {
    const Database = require('better-sqlite3');
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

if (hasNodeSqlite()) {
  console.log(
    `fleet-etl: Node.js ${process.version} has node:sqlite; the better-sqlite3 addon is not needed, not built`,
  );
  process.exit(0);
}
if (addonLoads()) {
  console.log(`fleet-etl: better-sqlite3 is already built for Node.js ${process.version}`);
  process.exit(0);
}

const addonDir = path.dirname(require.resolve('better-sqlite3/package.json'));
// npm hands its own node-gyp to lifecycle scripts; run outside npm, fall back to the one npm ships.
const nodeGyp =
  process.env.npm_config_node_gyp ??
  path.join(
    path.dirname(process.env.npm_execpath ?? ''),
    '..',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
console.log(
  `fleet-etl: Node.js ${process.version} has no node:sqlite; building the better-sqlite3 addon in ${addonDir}`,
);
const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', '--loglevel=warn'], {
  cwd: addonDir,
  stdio: 'inherit',
});
if (build.status !== 0 || !addonLoads()) {
  console.error(
    `fleet-etl: could not build better-sqlite3 for Node.js ${process.version} (node-gyp ${build.error?.message ?? `exited ${build.status}`}).\n` +
      'It needs python3, make and a C++ compiler. Node.js 22.13 or later needs none of them (node:sqlite is built in).',
  );
  process.exit(1);
}
console.log('fleet-etl: better-sqlite3 built');
