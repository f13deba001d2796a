import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * A loopback HTTP server that answers like GitHub's commits and contents APIs for one repository with one branch
 * and a history: the branch resolved to its head commit (`commits/{ref}`, the sha media type), directory listings
 * (optionally paginated with Link headers) and raw file content at the branch or at any commit of its history,
 * 401 for a wrong token, 404 for unknown paths, 422 for an unknown ref, and whatever faults a test scripts. It listens on 127.0.0.1 only and closes itself after a minute, so a
 * failed test cannot leave it running.
 */
export const TOKEN = 'ghp_test_token_never_in_errors';

export interface StubFile {
  path: string;
  text: string;
}

export interface StubRequest {
  path: string;
  accept: string;
  authorization: string | undefined;
  userAgent: string | undefined;
  apiVersion: string | undefined;
}

/** Answers a request before the repository does; return false to let the repository answer. */
export type Fault = (request: StubRequest, response: ServerResponse, count: number) => boolean;

export interface GitHubStub {
  url: string;
  requests: StubRequest[];
  /** The files at the head of the branch; assigning pushes a new commit with them. */
  files: StubFile[];
  /** The branch's head commit. */
  readonly head: string;
  /** Pushes a commit with these files onto the branch; returns its id. Earlier commits stay readable. */
  push(files: StubFile[]): string;
  /** Entries per listing page; more entries are served over several pages linked with rel="next". */
  pageSize: number;
  fault: Fault | undefined;
  close(): Promise<void>;
}

function blobSha(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}

export function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

export async function startGitHubStub(owner: string, repo: string, branch: string): Promise<GitHubStub> {
  const commits = new Map<string, StubFile[]>();
  let head = '';
  const push = (files: StubFile[]): string => {
    const sha = createHash('sha1')
      .update(`commit ${commits.size}\n${JSON.stringify(files)}`)
      .digest('hex');
    commits.set(sha, files);
    head = sha;
    return sha;
  };
  push([]);
  const stub: GitHubStub = {
    url: '',
    requests: [],
    get files() {
      return commits.get(head) ?? [];
    },
    set files(files) {
      push(files);
    },
    get head() {
      return head;
    },
    push,
    pageSize: 100,
    fault: undefined,
    close: async () => {},
  };
  const prefix = `/repos/${owner}/${repo}/contents`;
  const commitsPrefix = `/repos/${owner}/${repo}/commits/`;
  /** The commit a ref names: the branch's head, or a commit of its history. */
  const resolve = (ref: string | null): string | undefined =>
    ref === branch ? head : ref !== null && commits.has(ref) ? ref : undefined;

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const seen: StubRequest = {
      path: `${url.pathname}${url.search}`,
      accept: request.headers.accept ?? '',
      authorization: request.headers.authorization,
      userAgent: request.headers['user-agent'],
      apiVersion:
        typeof request.headers['x-github-api-version'] === 'string'
          ? request.headers['x-github-api-version']
          : undefined,
    };
    stub.requests.push(seen);
    if (stub.fault?.(seen, response, stub.requests.length)) return;
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      json(response, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    if (url.pathname.startsWith(commitsPrefix)) {
      const ref = decodeURIComponent(url.pathname.slice(commitsPrefix.length));
      const sha = resolve(ref);
      if (sha === undefined) {
        json(response, 422, { message: `No commit found for SHA: ${ref}` });
      } else if (seen.accept === 'application/vnd.github.sha') {
        response.writeHead(200, { 'content-type': 'application/vnd.github.sha; charset=utf-8' });
        response.end(sha);
      } else {
        json(response, 200, { sha });
      }
      return;
    }
    const commit = resolve(url.searchParams.get('ref'));
    if (!url.pathname.startsWith(prefix) || commit === undefined) {
      json(response, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    const files = commits.get(commit) ?? [];
    const path = decodeURIComponent(url.pathname.slice(prefix.length).replace(/^\//, ''));
    const file = files.find((f) => f.path === path);
    if (file) {
      if (seen.accept.includes('raw')) {
        response.writeHead(200, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
        response.end(file.text);
      } else {
        json(response, 200, entry(file.path, 'file', file.text, commit));
      }
      return;
    }
    const children = listing(files, path, commit);
    if (children.length === 0) {
      json(response, 404, { message: 'Not Found' });
      return;
    }
    const page = Number(url.searchParams.get('page') ?? '1');
    const slice = children.slice((page - 1) * stub.pageSize, page * stub.pageSize);
    const headers: Record<string, string> = {};
    if (page * stub.pageSize < children.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${stub.url}${next.pathname}${next.search}>; rel="next", <${stub.url}${url.pathname}>; rel="first"`;
    }
    json(response, 200, slice, headers);
  };

  /** Direct children of a folder: files and subfolders, sorted as GitHub sorts them. */
  const listing = (files: readonly StubFile[], folder: string, commit: string) => {
    const inside = files.filter((f) => (folder === '' ? true : f.path.startsWith(`${folder}/`)));
    const names = new Map<string, ReturnType<typeof entry>>();
    for (const file of inside) {
      const rest = folder === '' ? file.path : file.path.slice(folder.length + 1);
      const [first, ...deeper] = rest.split('/');
      if (first === undefined) continue;
      const childPath = folder === '' ? first : `${folder}/${first}`;
      names.set(
        first,
        deeper.length > 0 ? entry(childPath, 'dir', '', commit) : entry(childPath, 'file', file.text, commit),
      );
    }
    return [...names.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  };

  const entry = (path: string, type: 'file' | 'dir', text: string, commit: string) => ({
    name: path.split('/').at(-1) ?? path,
    path,
    sha: type === 'file' ? blobSha(text) : blobSha(`tree ${path}`),
    size: type === 'file' ? Buffer.byteLength(text) : 0,
    url: `${stub.url}${prefix}/${path}?ref=${commit}`,
    html_url: `https://github.com/${owner}/${repo}/blob/${commit}/${path}`,
    git_url: `${stub.url}/repos/${owner}/${repo}/git/blobs/${blobSha(text)}`,
    download_url: type === 'file' ? `${stub.url}/raw/${path}` : null,
    type,
    _links: {},
  });

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the stub is not listening on a port');
  stub.url = `http://127.0.0.1:${address.port}`;
  const stopTimer = setTimeout(() => server.close(), 60_000);
  stopTimer.unref();
  server.unref();
  stub.close = () =>
    new Promise<void>((resolve) => {
      clearTimeout(stopTimer);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}
