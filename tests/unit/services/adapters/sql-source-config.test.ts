import { GitHubSqlSource } from '../../../../services/adapters/github/github-sql-source.js';
import { FolderSqlSource } from '../../../../services/adapters/local/folder-sql-source.js';
import {
  createSqlSource,
  githubSqlSourceEnvironment,
  sqlSourceConfigFromEnv,
  sqlSourceConfigFromSpec,
} from '../../../../services/adapters/sql-source-config.js';
import { ConfigurationError } from '../../../../services/shared/environment.js';

describe('the query runner’s SQL source configuration', () => {
  it('reads back exactly the GitHub settings and token secret the CDK app writes into the environment', () => {
    const settings = {
      owner: 'acme',
      repo: 'fleet-sql',
      branch: 'release-1',
      path: 'sql/nightly',
      apiUrl: 'https://github.example.com/api/v3',
    };
    const env = githubSqlSourceEnvironment(settings, 'fleet-etl/github-token');
    expect(sqlSourceConfigFromEnv(env, '/var/task/queries')).toEqual({
      kind: 'github',
      folder: { owner: 'acme', repo: 'fleet-sql', branch: 'release-1', path: 'sql/nightly' },
      apiUrl: 'https://github.example.com/api/v3',
      tokenSecretId: 'fleet-etl/github-token',
    });
    const { apiUrl: _, ...publicGitHub } = settings;
    expect(githubSqlSourceEnvironment(publicGitHub)).not.toHaveProperty('GITHUB_TOKEN_SECRET_ID');
    expect(githubSqlSourceEnvironment(publicGitHub)).not.toHaveProperty('GITHUB_API_URL');
  });

  it('reads the bundled folder when SQL_SOURCE is not set', () => {
    expect(sqlSourceConfigFromEnv({}, '/var/task/queries')).toEqual({
      kind: 'folder',
      folder: '/var/task/queries',
    });
  });

  it('reads a GitHub folder from the GITHUB_* variables, with the token’s secret id', () => {
    const config = sqlSourceConfigFromEnv(
      {
        SQL_SOURCE: 'github',
        GITHUB_OWNER: 'acme',
        GITHUB_REPO: 'fleet-sql',
        GITHUB_BRANCH: 'release/2026.11',
        GITHUB_PATH: '/sql/nightly/',
        GITHUB_TOKEN_SECRET_ID: 'fleet-etl/github-token',
      },
      '/var/task/queries',
    );

    expect(config).toEqual({
      kind: 'github',
      folder: { owner: 'acme', repo: 'fleet-sql', branch: 'release/2026.11', path: 'sql/nightly' },
      tokenSecretId: 'fleet-etl/github-token',
    });
  });

  it('reads a GitHub Enterprise Server’s API from GITHUB_API_URL, and a public folder without a token', () => {
    const config = sqlSourceConfigFromEnv(
      {
        SQL_SOURCE: 'github',
        GITHUB_OWNER: 'acme',
        GITHUB_REPO: 'fleet-sql',
        GITHUB_API_URL: 'https://github.example.com/api/v3',
      },
      '/var/task/queries',
    );

    expect(config).toEqual({
      kind: 'github',
      folder: { owner: 'acme', repo: 'fleet-sql', branch: 'main', path: 'queries' },
      apiUrl: 'https://github.example.com/api/v3',
    });
  });

  it.each([
    [{ SQL_SOURCE: 'gitlab' }, /SQL_SOURCE/],
    [{ SQL_SOURCE: 'github', GITHUB_REPO: 'fleet-sql' }, /GITHUB_OWNER/],
    [{ SQL_SOURCE: 'github', GITHUB_OWNER: '-acme', GITHUB_REPO: 'x' }, /owner: a GitHub user/],
    [{ SQL_SOURCE: 'github', GITHUB_OWNER: 'acme', GITHUB_REPO: 'x', GITHUB_BRANCH: 'a..b' }, /branch/],
    [{ SQL_SOURCE: 'github', GITHUB_OWNER: 'acme', GITHUB_REPO: 'x', GITHUB_PATH: 'sql/../etc' }, /path/],
  ])('refuses %p, naming the variable', (env, message) => {
    expect(() => sqlSourceConfigFromEnv(env, '/q')).toThrow(ConfigurationError);
    expect(() => sqlSourceConfigFromEnv(env, '/q')).toThrow(message);
  });

  it.each([
    ['bundled', { kind: 'folder', folder: '/bundled' }],
    ['./my-queries', { kind: 'folder', folder: './my-queries' }],
    [
      'github:acme/fleet-sql/sql/nightly@main',
      { kind: 'github', folder: { owner: 'acme', repo: 'fleet-sql', path: 'sql/nightly', branch: 'main' } },
    ],
    [
      'github:acme/fleet-sql@dev',
      { kind: 'github', folder: { owner: 'acme', repo: 'fleet-sql', path: '', branch: 'dev' } },
    ],
  ])('reads the CLI form %p', (spec, expected) => {
    expect(sqlSourceConfigFromSpec(spec, '/bundled')).toEqual(expected);
  });

  it('refuses a GitHub spec without a branch', () => {
    expect(() => sqlSourceConfigFromSpec('github:acme/fleet-sql/sql', '/b')).toThrow(
      /OWNER\/REPO\[\/PATH\]@BRANCH/,
    );
  });

  it('builds the source the configuration names', () => {
    const githubToken = async () => undefined;
    expect(createSqlSource({ kind: 'folder', folder: '/q' }, { githubToken })).toBeInstanceOf(
      FolderSqlSource,
    );
    expect(
      createSqlSource(
        { kind: 'github', folder: { owner: 'a', repo: 'b', branch: 'main', path: '' } },
        { githubToken },
      ),
    ).toBeInstanceOf(GitHubSqlSource);
  });
  it('asks GitHub at the configured API with the token the configuration names', async () => {
    const commit = 'c'.repeat(40);
    const seen: { url: string; authorization: string | null }[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      seen.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      return new Response(commit, { status: 200, headers: { 'content-type': 'application/vnd.github.sha' } });
    };
    const asked: unknown[] = [];
    const config = {
      kind: 'github' as const,
      folder: { owner: 'acme', repo: 'fleet-sql', branch: 'main', path: 'sql' },
      apiUrl: 'https://github.example.com/api/v3',
      tokenSecretId: 'github/token',
    };

    const version = await createSqlSource(config, {
      githubToken: async (asking) => {
        asked.push(asking);
        return 'ghp_enterprise';
      },
      fetch,
    }).pin();

    expect(version).toEqual({ commit });
    expect(asked).toEqual([config]);
    expect(seen).toEqual([
      {
        url: 'https://github.example.com/api/v3/repos/acme/fleet-sql/commits/main',
        authorization: 'Bearer ghp_enterprise',
      },
    ]);
  });
});
