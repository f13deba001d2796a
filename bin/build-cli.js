#!/usr/bin/env node
// Compiles the `etl` command into dist/cli/ (npm's `prepare`, so `npm ci` and `npm install` build it; also
// `npm run build`). bin/etl.js runs the result while it is fresh and the TypeScript sources through tsx otherwise
// (bin/cli-build.js, docs/decisions/0086-etl-runs-compiled-javascript.md).
//
// esbuild bundles our sources, one entry for the command and one for the simulator's thread, split so that each
// command's modules still load only when it runs (decision 51); packages in node_modules stay imports, resolved at
// run time as before (native addons, WebAssembly files next to their modules). A bundled module's
// `import.meta.url` is rewritten to name its source file, so paths it resolves relative to itself (queries/,
// package.json, bin/etl.js, the simulator thread's entry) mean what they mean when the sources run.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD_DIR, compiledName, ENTRIES, MANIFEST, ROOT, RUNTIME_MODULES } from './cli-build.js';

/** A build older than this may be removed by the next one; a process still loading its chunks is not that old. */
const KEEP_OLD_BUILDS_MS = 60 * 60 * 1000;

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // Installed without devDependencies: etl runs from its sources, as before this build existed.
  process.stderr.write(
    'etl build: esbuild is not installed; etl will run its TypeScript sources through tsx\n',
  );
  process.exit(0);
}

const started = performance.now();
const id = `build-${Date.now()}-${process.pid}`;
const outdir = path.join(BUILD_DIR, id);

/**
 * Every source as it was read: its size and modification time taken just before reading it. If a file changes
 * after that, its time differs from the recorded one and the build is stale from the start (bin/cli-build.js).
 */
const inputs = {};
const LOADERS = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.json': 'json',
};

const readSources = {
  name: 'read-sources',
  setup(build) {
    build.onLoad({ filter: /.*/ }, (args) => {
      const loader = LOADERS[path.extname(args.path)];
      if (loader === undefined || args.path.split(path.sep).includes('node_modules')) return undefined;
      const { mtimeMs, size } = statSync(args.path);
      inputs[path.relative(ROOT, args.path).split(path.sep).join('/')] = { mtimeMs, size };
      const source = readFileSync(args.path, 'utf8');
      // Chunks sit directly in the build folder, so the path from there to the source is the same for every chunk.
      const relative = path.relative(outdir, args.path).split(path.sep).join('/');
      return {
        contents: source.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(relative)}, import.meta.url).href`,
        ),
        loader,
      };
    });
  },
};

/**
 * Packages bundled into the build rather than left as imports: pure JavaScript that Node.js would otherwise
 * resolve, read and compile file by file at every start. zod is about 300 module files (about 60 ms of CPU;
 * bundled, the code no command uses, its locales, is left out). @duckdb/node-api (about 100 CommonJS files) stays
 * an import: services/adapters/local/duckdb/duckdb-text.ts patches the decoder of the package's own module, which a
 * bundled copy would not use (a leading byte-order mark of a text value was lost in the compiled command). Every
 * other package stays an import too (native addons, and WebAssembly files resolve next to their own modules).
 * Their package.json files are inputs of the build, so an upgrade makes it stale (docs/decisions/0094).
 */
const BUNDLED_PACKAGES = ['zod'];

const packagesAsImports = {
  name: 'packages-as-imports',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const name = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : (args.path.split('/')[0] ?? args.path);
      return BUNDLED_PACKAGES.includes(name) ? undefined : { external: true };
    });
  },
};

for (const file of [
  'tsconfig.json',
  'bin/build-cli.js',
  'bin/cli-build.js',
  ...BUNDLED_PACKAGES.map((name) => `node_modules/${name}/package.json`),
]) {
  const { mtimeMs, size } = statSync(path.join(ROOT, file));
  inputs[file] = { mtimeMs, size };
}
/** Each runtime module (bin/cli-build.js): its source, relative to the root, and its compiled name in the build. */
const runtimeModules = Object.fromEntries(
  readdirSync(path.join(ROOT, RUNTIME_MODULES.folder), { recursive: true })
    .map((file) => `${RUNTIME_MODULES.folder}/${String(file).split(path.sep).join('/')}`)
    .filter((source) => RUNTIME_MODULES.pattern.test(source))
    .sort()
    .map((source) => [source, compiledName(source)]),
);

await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: {
    ...Object.fromEntries(Object.entries(ENTRIES).map(([name, entry]) => [name, entry.source])),
    ...Object.fromEntries(
      Object.entries(runtimeModules).map(([source, name]) => [name.replace(/\.js$/, ''), source]),
    ),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
  // Only ES module packages are bundled (zod): no chunk needs a require() of its own. A CommonJS package bundled
  // here would need one (an esbuild banner defining it with createRequire).
  plugins: [packagesAsImports, readSources],
});

// The manifest names the build to run; replacing it is one rename, so a process starting meanwhile reads the old
// one or the new one. Each build has its own folder: a process started on the previous build can still load the
// chunks its commands import later.
const staging = `${MANIFEST}.${process.pid}.tmp`;
writeFileSync(
  staging,
  `${JSON.stringify({ build: id, esbuild: esbuild.version, modules: runtimeModules, inputs }, null, 1)}\n`,
);
renameSync(staging, MANIFEST);
for (const entry of readdirSync(BUILD_DIR, { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name === id) continue;
  const folder = path.join(BUILD_DIR, entry.name);
  if (Date.now() - statSync(folder).mtimeMs > KEEP_OLD_BUILDS_MS)
    rmSync(folder, { recursive: true, force: true });
}

const seconds = ((performance.now() - started) / 1000).toFixed(2);
process.stderr.write(
  `etl build: ${Object.keys(inputs).length} sources → ${path.relative(ROOT, outdir)}/ in ${seconds} s\n`,
);
