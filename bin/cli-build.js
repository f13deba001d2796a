// Where the compiled `etl` lives and whether it is fresh: bin/build-cli.js writes it, bin/etl.js and the simulator
// thread's entry load from it (docs/decisions/0086-etl-runs-compiled-javascript.md). Plain JavaScript: it runs
// before anything could compile TypeScript.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BUILD_DIR = path.join(ROOT, 'dist', 'cli');
export const MANIFEST = path.join(BUILD_DIR, 'manifest.json');

/** What is compiled: each entry's TypeScript source and the bundle built from it. */
export const ENTRIES = {
  etl: { source: 'cli/main.ts', compiled: 'etl.js' },
  'simulator-thread': { source: 'cli/simulator-thread.ts', compiled: 'simulator-thread.js' },
};

/**
 * The build to run, `{ folder }`, when it is fresh: every source it was built from still has the size and
 * modification time it had when the build read it. Otherwise why not, as text: an edit, a checkout or a deleted
 * file makes it stale; `ETL_FROM_SOURCES=1` asks for the sources.
 */
export function freshBuild(root = ROOT, buildDir = BUILD_DIR) {
  if (process.env.ETL_FROM_SOURCES === '1') return 'ETL_FROM_SOURCES=1';
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(buildDir, 'manifest.json'), 'utf8'));
  } catch {
    return 'it has not been built (npm run build)';
  }
  for (const [file, recorded] of Object.entries(manifest.inputs ?? {})) {
    let now;
    try {
      now = statSync(path.join(root, file));
    } catch {
      return `${file} was deleted since the build`;
    }
    if (now.mtimeMs !== recorded.mtimeMs || now.size !== recorded.size)
      return `${file} changed since the build`;
  }
  return { folder: path.join(buildDir, manifest.build) };
}

let warned = false;

/**
 * Loads an entry: the compiled bundle while it is fresh, else its TypeScript source through tsx, so that what runs
 * is always what the sources say. A person at a terminal is told once why start-up is slower; pipes and tests are
 * not (their output is the command's own).
 */
export async function importEntry(name) {
  const entry = ENTRIES[name];
  const build = freshBuild();
  if (typeof build === 'object') return import(pathToFileURL(path.join(build.folder, entry.compiled)).href);
  if (process.stderr.isTTY && !warned && process.env.ETL_FROM_SOURCES !== '1') {
    warned = true;
    process.stderr.write(
      `etl: running the TypeScript sources through tsx: the build is stale (${build}); npm run build\n`,
    );
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(path.join(ROOT, entry.source)).href);
}
