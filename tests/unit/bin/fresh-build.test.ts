/**
 * bin/cli-build.js decides whether `etl` runs the compiled bundle or the TypeScript sources: the bundle only while
 * every source it was built from is as the build read it, so an edit is never hidden behind an old build.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshBuild } from '../../../bin/cli-build.js';

/** A project folder with two sources and a build of them recorded as the build script records it. */
function builtProject(): { root: string; buildDir: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'cli-build-'));
  mkdirSync(path.join(root, 'src'));
  writeFileSync(path.join(root, 'src/a.ts'), 'export const a = 1;\n');
  writeFileSync(path.join(root, 'src/b.ts'), 'export const b = 2;\n');
  const buildDir = path.join(root, 'dist/cli');
  mkdirSync(path.join(buildDir, 'build-1'), { recursive: true });
  const inputs = Object.fromEntries(
    ['src/a.ts', 'src/b.ts'].map((file) => {
      const { mtimeMs, size } = statSync(path.join(root, file));
      return [file, { mtimeMs, size }];
    }),
  );
  writeFileSync(path.join(buildDir, 'manifest.json'), JSON.stringify({ build: 'build-1', inputs }));
  return { root, buildDir };
}

describe('freshBuild', () => {
  const saved = process.env.ETL_FROM_SOURCES;
  beforeEach(() => {
    delete process.env.ETL_FROM_SOURCES;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.ETL_FROM_SOURCES;
    else process.env.ETL_FROM_SOURCES = saved;
  });

  it('names the build folder while every source is as the build read it', () => {
    const { root, buildDir } = builtProject();
    expect(freshBuild(root, buildDir)).toEqual({ folder: path.join(buildDir, 'build-1'), modules: {} });
  });

  it('is stale once a source is edited, even to the same size', () => {
    const { root, buildDir } = builtProject();
    writeFileSync(path.join(root, 'src/b.ts'), 'export const b = 3;\n');
    utimesSync(path.join(root, 'src/b.ts'), new Date(), new Date(Date.now() + 5_000));
    expect(freshBuild(root, buildDir)).toBe('src/b.ts changed since the build');
  });

  it('is stale when a source is older than the build read it (a file copied with its old time)', () => {
    const { root, buildDir } = builtProject();
    utimesSync(path.join(root, 'src/a.ts'), new Date(0), new Date(0));
    expect(freshBuild(root, buildDir)).toBe('src/a.ts changed since the build');
  });

  it('is stale when a source was deleted', () => {
    const { root, buildDir } = builtProject();
    rmSync(path.join(root, 'src/a.ts'));
    expect(freshBuild(root, buildDir)).toBe('src/a.ts was deleted since the build');
  });

  it('is missing before the first build', () => {
    const { root, buildDir } = builtProject();
    rmSync(path.join(buildDir, 'manifest.json'));
    expect(freshBuild(root, buildDir)).toMatch(/has not been built/);
  });

  it('gives way to ETL_FROM_SOURCES=1', () => {
    const { root, buildDir } = builtProject();
    process.env.ETL_FROM_SOURCES = '1';
    expect(freshBuild(root, buildDir)).toBe('ETL_FROM_SOURCES=1');
  });
});
