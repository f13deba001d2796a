import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { lastJsonLine, runEtl } from '../helpers/etl-process.js';
import { type GitHubStub, startGitHubStub, TOKEN } from '../integration/github/github-stub.js';

/**
 * `etl run --sql-source github:…` against a GitHub API on 127.0.0.1 (GITHUB_API_URL) whose branch moves during the
 * night: the bundled queries/ are commit 1; when the second file's step lists the folder, a push replaces the
 * answer's file with SQL that cannot run and adds a file. The night reads every file at commit 1, so it succeeds
 * with the files of commit 1 (queries/ as it is) and names that commit.
 */

const QUERIES = path.resolve('queries');
const VERSION_1 = readdirSync(QUERIES)
  .filter((name) => name.endsWith('.sql'))
  .map((name) => ({ path: `queries/${name}`, text: readFileSync(path.join(QUERIES, name), 'utf8') }));
const VERSION_2 = [
  ...VERSION_1.map((file) =>
    file.path.endsWith('40_avg_seconds_between_measurements.sql')
      ? { ...file, text: 'SELECT no_such_column FROM no_such_table;\n' }
      : file,
  ),
  { path: 'queries/50_pushed_during_the_night.sql', text: 'SELECT 1 AS pushed;\n' },
];

const RunJsonSchema = z.object({
  status: z.enum(['succeeded', 'failed']),
  results: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  failures: z.array(z.string()),
});

describe('etl run --sql-source github: while the branch moves', () => {
  let stub: GitHubStub;
  let stateDir: string;

  beforeAll(async () => {
    stub = await startGitHubStub('acme', 'fleet-sql', 'main');
    stateDir = await mkdtemp(path.join(tmpdir(), 'etl-github-sql-'));
  });

  afterAll(async () => {
    await stub.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('runs the whole night on the commit pinned when the query stage started', async () => {
    // Prepare
    const pinnedCommit = stub.push(VERSION_1);
    let listings = 0;
    let pushedCommit: string | undefined;
    stub.fault = (request) => {
      if (request.path.startsWith('/repos/acme/fleet-sql/contents/queries?')) listings += 1;
      if (listings === 2 && pushedCommit === undefined) pushedCommit = stub.push(VERSION_2);
      return false;
    };

    // Act
    const outcome = await runEtl(
      [
        'run',
        '--date',
        '2026-11-24',
        '--state-dir',
        stateDir,
        '--vehicles',
        '20',
        '--readings',
        '50',
        '--sql-source',
        'github:acme/fleet-sql/queries@main',
        '--json',
      ],
      { env: { ...process.env, GITHUB_API_URL: stub.url, GITHUB_TOKEN: TOKEN } },
    );

    // Assess
    const summary = RunJsonSchema.parse(lastJsonLine(outcome.stdout));
    expect({ exitCode: outcome.exitCode, failures: summary.failures }).toEqual({ exitCode: 0, failures: [] });
    expect(summary.status).toBe('succeeded');
    expect(pushedCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(pushedCommit).not.toBe(pinnedCommit);
    const bundled = readdirSync('queries').filter((name) => name.endsWith('.sql')).length;
    expect(outcome.stderr).toContain(`ran 40_avg_seconds_between_measurements.sql (${bundled}/${bundled})`);
    expect(outcome.stderr).not.toMatch(/50_pushed_during_the_night/);
    expect(outcome.stderr).toContain(
      `EtlDone: ${bundled} SQL file(s), results: avg_seconds_between_measurements, SQL at commit ${pinnedCommit}`,
    );
    expect(summary.results.avg_seconds_between_measurements?.length).toBeGreaterThan(0);
    // The branch was resolved once; every listing and file was read at the pinned commit.
    expect(stub.requests.filter((r) => r.path.includes('/commits/')).map((r) => r.path)).toEqual([
      '/repos/acme/fleet-sql/commits/main',
    ]);
    const contents = stub.requests.filter((r) => r.path.includes('/contents/'));
    expect(contents.every((r) => r.path.endsWith(`?ref=${pinnedCommit}`))).toBe(true);
  }, 120_000);
});
