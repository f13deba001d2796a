import * as z from 'zod';

/**
 * A folder of a GitHub repository at a branch: where analysts keep the SQL files. Each part is checked
 * against GitHub's own naming rules, so a typo fails at configuration time with the part's name rather
 * than as a 404 at 01:00.
 */
export const GitHubFolderSchema = z.object({
  /** A user or organisation: letters, digits and single hyphens, at most 39 characters. */
  owner: z
    .string()
    .regex(
      /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/,
      'owner: a GitHub user or organisation name',
    ),
  repo: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'repo: letters, digits, . _ and -')
    .refine((name) => name !== '.' && name !== '..', { message: 'repo: not . or ..' }),
  /** A branch (or tag) name as git allows it (git check-ref-format), restricted to URL-safe characters. */
  branch: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/, 'branch: letters, digits, . _ - and / between parts')
    .refine((name) => !name.includes('..') && !name.endsWith('.lock') && !name.startsWith('.'), {
      message: 'branch: not a valid git branch name',
    }),
  /** Relative to the repository root, without leading or trailing slash; '' is the root itself. */
  path: z
    .string()
    .regex(/^(?:[A-Za-z0-9._ -]+(?:\/[A-Za-z0-9._ -]+)*)?$/, 'path: a folder of the repository, a/b/c')
    .refine((p) => !p.split('/').some((segment) => segment === '.' || segment === '..'), {
      message: 'path: no . or .. segments',
    }),
});
export type GitHubFolder = z.infer<typeof GitHubFolderSchema>;

/** `owner/repo/folder/path@branch`, e.g. `acme/fleet-sql/queries@main`; the path may be empty. */
const FOLDER_SPEC = /^([^/@]+)\/([^/@]+)(?:\/([^@]*))?@(.+)$/;

/** Parses the one-string form used by the CLI and the environment; errors name the part that is wrong. */
export function parseGitHubFolderSpec(spec: string): GitHubFolder {
  const match = FOLDER_SPEC.exec(spec.trim());
  if (!match) {
    throw new Error(
      `GitHub folder "${spec}": expected OWNER/REPO[/PATH]@BRANCH, e.g. acme/fleet-sql/queries@main`,
    );
  }
  const [, owner, repo, path, branch] = match;
  const parsed = GitHubFolderSchema.safeParse({
    owner,
    repo,
    branch,
    path: (path ?? '').replace(/\/+$/, ''),
  });
  if (!parsed.success) {
    throw new Error(`GitHub folder "${spec}": ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  return parsed.data;
}

export function describeFolder(folder: GitHubFolder): string {
  return `${folder.owner}/${folder.repo}/${folder.path}@${folder.branch}`;
}
