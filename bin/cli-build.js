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
 * Modules the command imports by path at run time rather than through an import the bundler sees: each service's
 * handler module, which the local runtime loads for a bus consumer from its topology entry
 * (local/consumer-wiring.ts). Compiled as entries of their own, named after their folder, so that a consumer
 * loads from the same build (its chunks shared with the command's) instead of through tsx, which cost about 0.4 s
 * of CPU at the end of every night (docs/decisions/0094).
 */
export const RUNTIME_MODULES = { pattern: /^services\/([a-z0-9-]+)\/handler\.ts$/, folder: 'services' };

/**
 * A runtime module's compiled file in a build: `services/report/handler.ts` -> `handler-report.js`, beside the
 * chunks (the paths bin/build-cli.js rewrites `import.meta.url` to are relative to the build folder itself).
 */
export const compiledName = (source) => `handler-${source.split('/')[1]}.js`;

/** Set by importEntry on the compiled build it loads: the build that modules loaded later must come from. */
const BUILD_IN_USE = Symbol.for('fleet-etl.cli-build-in-use');

/**
 * The compiled module of a source named in the build this process runs (`services/report/handler.ts`, relative to
 * the repository), as a file URL; undefined when the process runs its TypeScript sources, or the build has no
 * such module. Modules of one build share their chunks, so what is loaded this way shares the command's modules.
 */
export function compiledModule(source) {
  const build = globalThis[BUILD_IN_USE];
  const name = build?.modules[source];
  return name === undefined ? undefined : pathToFileURL(path.join(build.folder, name)).href;
}

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
  return { folder: path.join(buildDir, manifest.build), modules: manifest.modules ?? {} };
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
  if (typeof build === 'object') {
    globalThis[BUILD_IN_USE] ??= build;
    return import(pathToFileURL(path.join(build.folder, entry.compiled)).href);
  }
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
