import * as z from 'zod';
import type { SqlSource } from '../ports/sql-source.js';
import { ConfigurationError } from '../shared/environment.js';
import { GitHubApi } from './github/github-api.js';
import { type GitHubFolder, GitHubFolderSchema, parseGitHubFolderSpec } from './github/github-folder.js';
import { GitHubSqlSource } from './github/github-sql-source.js';
import { FolderSqlSource } from './local/folder-sql-source.js';

/** Where the query runner reads its SQL files: the bundled queries/ folder, a local folder, or GitHub. */
export type SqlSourceConfig =
  | { kind: 'folder'; folder: string }
  | { kind: 'github'; folder: GitHubFolder; apiUrl?: string; tokenSecretId?: string };

const nonEmpty = z.string().min(1);

/**
 * A GitHub folder of SQL files as a deployment names it: GitHub's own naming rules for each part
 * (GitHubFolderSchema), a path written with or without slashes around it. One schema for the deployment's
 * configuration, which infra/config.ts parses at synth, and for the query runner's environment, which
 * `sqlSourceConfigFromEnv` parses at cold start: a folder the runner would refuse fails the synth instead.
 */
export const GitHubSqlSettingsSchema = z.object({
  owner: GitHubFolderSchema.shape.owner,
  repo: GitHubFolderSchema.shape.repo,
  branch: GitHubFolderSchema.shape.branch.default('main'),
  /** The folder of .sql files in the repository; '' is its root. */
  path: z
    .string()
    .transform((path) => path.replace(/^\/+|\/+$/g, ''))
    .pipe(GitHubFolderSchema.shape.path)
    .default('queries'),
  /** GitHub Enterprise Server's API, e.g. https://github.example.com/api/v3. */
  apiUrl: z.url({ protocol: /^https?$/ }).optional(),
});
export type GitHubSqlSettings = z.output<typeof GitHubSqlSettingsSchema>;

/**
 * The query runner's SQL source from its environment. `SQL_SOURCE=bundled` (the default) reads the folder
 * bundled with the function; `SQL_SOURCE=github` reads GITHUB_OWNER/GITHUB_REPO/GITHUB_PATH at GITHUB_BRANCH,
 * with the token kept in Secrets Manager under GITHUB_TOKEN_SECRET_ID (optional for a public repository).
 */
const SqlSourceEnvSchema = z.discriminatedUnion('SQL_SOURCE', [
  z.object({ SQL_SOURCE: z.literal('bundled') }),
  z.object({
    SQL_SOURCE: z.literal('github'),
    GITHUB_OWNER: GitHubSqlSettingsSchema.shape.owner,
    GITHUB_REPO: GitHubSqlSettingsSchema.shape.repo,
    GITHUB_BRANCH: GitHubSqlSettingsSchema.shape.branch,
    GITHUB_PATH: GitHubSqlSettingsSchema.shape.path,
    GITHUB_TOKEN_SECRET_ID: nonEmpty.optional(),
    GITHUB_API_URL: GitHubSqlSettingsSchema.shape.apiUrl,
  }),
]);

/**
 * The variables `sqlSourceConfigFromEnv` reads for a GitHub folder, as the CDK app sets them
 * (infra/constructs/pipeline-services.ts): the settings, and the id of the secret holding the token, if any.
 */
export function githubSqlSourceEnvironment(
  settings: GitHubSqlSettings,
  tokenSecretId?: string,
): Record<string, string> {
  return {
    SQL_SOURCE: 'github',
    GITHUB_OWNER: settings.owner,
    GITHUB_REPO: settings.repo,
    GITHUB_BRANCH: settings.branch,
    GITHUB_PATH: settings.path,
    ...(settings.apiUrl === undefined ? {} : { GITHUB_API_URL: settings.apiUrl }),
    ...(tokenSecretId === undefined ? {} : { GITHUB_TOKEN_SECRET_ID: tokenSecretId }),
  } satisfies z.input<(typeof SqlSourceEnvSchema.options)[1]>;
}

/** Every variable of the query runner's SQL source (the CDK app sets the GitHub ones only for a GitHub folder). */
export const SQL_SOURCE_VARIABLES: readonly string[] = [
  ...new Set(SqlSourceEnvSchema.options.flatMap((option) => Object.keys(option.shape))),
];

export function sqlSourceConfigFromEnv(env: NodeJS.ProcessEnv, bundledFolder: string): SqlSourceConfig {
  const parsed = SqlSourceEnvSchema.safeParse({ ...env, SQL_SOURCE: env.SQL_SOURCE ?? 'bundled' });
  if (!parsed.success) {
    throw new ConfigurationError(`invalid environment (SQL source): ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  const config = parsed.data;
  if (config.SQL_SOURCE === 'bundled') return { kind: 'folder', folder: bundledFolder };
  return {
    kind: 'github',
    folder: {
      owner: config.GITHUB_OWNER,
      repo: config.GITHUB_REPO,
      branch: config.GITHUB_BRANCH,
      path: config.GITHUB_PATH,
    },
    ...(config.GITHUB_API_URL === undefined ? {} : { apiUrl: config.GITHUB_API_URL }),
    ...(config.GITHUB_TOKEN_SECRET_ID === undefined ? {} : { tokenSecretId: config.GITHUB_TOKEN_SECRET_ID }),
  };
}

/**
 * The one-string form for the CLI: `bundled`, a folder path, or `github:OWNER/REPO[/PATH]@BRANCH`.
 * A folder path is anything that does not start with `github:`.
 */
export function sqlSourceConfigFromSpec(spec: string, bundledFolder: string): SqlSourceConfig {
  if (spec === 'bundled') return { kind: 'folder', folder: bundledFolder };
  if (spec.startsWith('github:')) return { kind: 'github', folder: parseGitHubFolderSpec(spec.slice(7)) };
  return { kind: 'folder', folder: spec };
}

export interface SqlSourceDeps {
  /** The GitHub token: from Secrets Manager in the Lambda (by tokenSecretId), from GITHUB_TOKEN locally. */
  githubToken: (config: Extract<SqlSourceConfig, { kind: 'github' }>) => Promise<string | undefined>;
  fetch?: typeof fetch;
}

export function createSqlSource(config: SqlSourceConfig, deps: SqlSourceDeps): SqlSource {
  if (config.kind === 'folder') return new FolderSqlSource(config.folder);
  const api = new GitHubApi({
    ...(config.apiUrl === undefined ? {} : { baseUrl: config.apiUrl }),
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    token: () => deps.githubToken(config),
  });
  return new GitHubSqlSource({ folder: config.folder, api });
}
