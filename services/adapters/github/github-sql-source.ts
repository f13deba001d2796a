import { createHash } from 'node:crypto';
import * as z from 'zod';
import { SqlFileNameSchema } from '../../../events/index.js';
import type { SqlFile, SqlSource } from '../../ports/sql-source.js';
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

/**
 * The SQL files of a GitHub folder at the head of a branch: every `.sql` file directly in it (not in
 * subfolders), with its text. Each file's text is checked against the blob sha of the listing, so a push
 * landing between the listing and the downloads is noticed (and retried) instead of mixing two versions.
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

  /** A push between the listing and the downloads is met by listing again, once. */
  async list(): Promise<SqlFile[]> {
    try {
      return await this.#listOnce();
    } catch (error) {
      if (!(error instanceof GitHubChangedError)) throw error;
      return this.#listOnce();
    }
  }

  async #listOnce(): Promise<SqlFile[]> {
    const entries = (await this.#listing()).filter(
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
      files.push(...(await Promise.all(batch.map((entry) => this.#file(entry)))));
    }
    return files;
  }

  async #listing(): Promise<ListingEntry[]> {
    const entries: ListingEntry[] = [];
    let url: string | undefined = this.#contentsPath(this.#folder.path);
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

  async #file(entry: ListingEntry): Promise<SqlFile> {
    const response = await this.#api.get(
      this.#contentsPath(entry.path),
      RAW,
      `file ${entry.path} of ${this.description}`,
    );
    if (gitBlobSha(response.bytes) !== entry.sha) {
      throw new GitHubChangedError(
        `${this.description}: ${entry.name} changed while it was being read (a push in between); ` +
          'a retry reads one version',
        response.status,
        undefined,
      );
    }
    return { name: entry.name, text: response.body };
  }

  #contentsPath(path: string): string {
    const { owner, repo, branch } = this.#folder;
    const encodedPath = path === '' ? '' : `/${path.split('/').map(encodeURIComponent).join('/')}`;
    return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/contents${encodedPath}?ref=${encodeURIComponent(branch)}`;
  }
}

/** The folder changed between its listing and a file's download. */
class GitHubChangedError extends GitHubTransientError {}

/** Git's object id of a file's content: SHA-1 of `blob <bytes>\0<content>`. */
export function gitBlobSha(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\0`).update(content).digest('hex');
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
