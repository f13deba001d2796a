import { createHash } from 'node:crypto';
import * as z from 'zod';
import { SqlFileNameSchema } from '../../../events/index.js';
import type { SqlFile, SqlSource, SqlVersion } from '../../ports/sql-source.js';
import { type GitHubApi, GitHubTerminalError, GitHubTransientError, nextPageUrl } from './github-api.js';
import { describeFolder, type GitHubFolder } from './github-folder.js';

/**
 * One entry of a directory listing of the contents API. Submodules are listed with type "file" (for
 * backward compatibility, says GitHub) but have no download_url and a git_url to a commit; they are skipped
 * with the other non-files. https://docs.github.com/en/rest/repos/contents#get-repository-content
 */
const ListingEntrySchema = z.object({
  type: z.string(),
  name: z.string().min(1),
  path: z.string().min(1),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  size: z.number().int().min(0),
  download_url: z.string().nullable(),
});
type ListingEntry = z.infer<typeof ListingEntrySchema>;

/** A directory answers with an array; a file with an object, which is a configuration mistake here. */
const ListingSchema = z.array(ListingEntrySchema);

/** The contents API lists at most 1,000 entries of a directory and says nothing when it cuts the list. */
const LISTING_LIMIT = 1000;
/** The raw media type serves files up to 100 MB; SQL files are a few KB. */
const RAW = 'application/vnd.github.raw+json';
const JSON_MEDIA = 'application/vnd.github+json';
/** Files fetched at once: few enough to stay clear of GitHub's secondary (concurrency) limits. */
const CONCURRENCY = 4;

export interface GitHubSqlSourceOptions {
  folder: GitHubFolder;
  api: GitHubApi;
}

/** The `application/vnd.github.sha` answer of the commits API: the commit's id alone. */
const CommitShaSchema = z
  .string()
  .transform((body) => body.trim())
  .pipe(z.string().regex(/^[0-9a-f]{40}$/));
const SHA_MEDIA = 'application/vnd.github.sha';

/**
 * The SQL files of a GitHub folder: every `.sql` file directly in it (not in subfolders), with its text. A run
 * resolves the branch to its head commit once (`pin`) and reads the folder at that commit for the rest of the
 * run (`list`), so a push while the run goes on is not seen by it: one night, one version of the SQL. Each file's
 * text is checked against the blob sha of the listing, so a body altered on the way is refused.
 */
export class GitHubSqlSource implements SqlSource {
  readonly #folder: GitHubFolder;
  readonly #api: GitHubApi;

  constructor(options: GitHubSqlSourceOptions) {
    this.#folder = options.folder;
    this.#api = options.api;
  }

  get description(): string {
    return `GitHub folder ${describeFolder(this.#folder)}`;
  }

  /** The branch's head commit now (https://docs.github.com/en/rest/commits/commits#get-a-commit). */
  async pin(): Promise<SqlVersion> {
    const { owner, repo, branch } = this.#folder;
    const response = await this.#api.get(
      `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/commits/${encodePath(branch)}`,
      SHA_MEDIA,
      `resolving the branch of ${this.description}`,
    );
    const commit = CommitShaSchema.safeParse(response.body);
    if (!commit.success) {
      throw new GitHubTerminalError(
        `${this.description}: GitHub answered no commit id for ${branch}: ${JSON.stringify(response.body.slice(0, 80))}`,
        response.status,
      );
    }
    return { commit: commit.data };
  }

  async list(version: SqlVersion): Promise<SqlFile[]> {
    if (!('commit' in version)) {
      throw new GitHubTerminalError(
        `${this.description}: the run was pinned to a folder's content hash, not to a commit; was the SQL source changed during the run?`,
        undefined,
      );
    }
    const commit = CommitShaSchema.parse(version.commit);
    const entries = (await this.#listing(commit)).filter(
      (entry) => entry.type === 'file' && entry.name.endsWith('.sql'),
    );
    for (const entry of entries) {
      const name = SqlFileNameSchema.safeParse(entry.name);
      if (!name.success) {
        throw new GitHubTerminalError(
          `${this.description}: file name "${entry.name}" is not usable: ${name.error.issues[0]?.message ?? 'invalid'}`,
          undefined,
        );
      }
    }
    const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files: SqlFile[] = [];
    for (let start = 0; start < sorted.length; start += CONCURRENCY) {
      const batch = sorted.slice(start, start + CONCURRENCY);
      files.push(...(await Promise.all(batch.map((entry) => this.#file(entry, commit)))));
    }
    return files;
  }

  async #listing(commit: string): Promise<ListingEntry[]> {
    const entries: ListingEntry[] = [];
    let url: string | undefined = this.#contentsPath(this.#folder.path, commit);
    while (url !== undefined) {
      const response = await this.#api.get(url, JSON_MEDIA, `listing ${this.description}`);
      const parsed = ListingSchema.safeParse(parseJson(response.body));
      if (!parsed.success) {
        throw new GitHubTerminalError(
          `${this.description}: the path is not a folder, or GitHub answered an unexpected listing: ${z.prettifyError(parsed.error)}`,
          response.status,
        );
      }
      entries.push(...parsed.data);
      url = nextPageUrl(response.headers.get('link'));
    }
    if (entries.length >= LISTING_LIMIT) {
      throw new GitHubTerminalError(
        `${this.description}: the folder lists ${entries.length} entries, GitHub's limit for a folder; ` +
          'the listing may be cut short, so keep the SQL files in a smaller folder',
        undefined,
      );
    }
    return entries;
  }

  async #file(entry: ListingEntry, commit: string): Promise<SqlFile> {
    const response = await this.#api.get(
      this.#contentsPath(entry.path, commit),
      RAW,
      `file ${entry.path} of ${this.description}`,
    );
    // At a commit the file cannot change: another body was altered on the way (a proxy, a cut), worth a retry.
    if (gitBlobSha(response.bytes) !== entry.sha) {
      throw new GitHubTransientError(
        `${this.description}: ${entry.name} at commit ${commit} arrived with other content than its blob ${entry.sha}`,
        response.status,
        undefined,
      );
    }
    return { name: entry.name, text: response.body };
  }

  #contentsPath(path: string, commit: string): string {
    const { owner, repo } = this.#folder;
    const encodedPath = path === '' ? '' : `/${encodePath(path)}`;
    return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/contents${encodedPath}?ref=${commit}`;
  }
}

/** Each segment of a slash-separated path (a folder, a branch such as release/2026) encoded on its own. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** Git's object id of a file's content: SHA-1 of `blob <bytes>\0<content>`. */
function gitBlobSha(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\0`).update(content).digest('hex');
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
