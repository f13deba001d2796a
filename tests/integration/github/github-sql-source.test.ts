// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${database} is the SQL placeholder syntax, not a template.
import { gzipSync } from 'node:zlib';
import {
  GitHubApi,
  GitHubTerminalError,
  GitHubTransientError,
} from '../../../services/adapters/github/github-api.js';
import { parseGitHubFolderSpec } from '../../../services/adapters/github/github-folder.js';
import { GitHubSqlSource } from '../../../services/adapters/github/github-sql-source.js';
import { isRetryable } from '../../../services/shared/errors.js';
import { type GitHubStub, json, startGitHubStub, TOKEN } from './github-stub.js';

const FILES = [
  { path: 'sql/nightly/20_vehicles.sql', text: 'INSERT INTO ${database}.v SELECT 1;\n' },
  { path: 'sql/nightly/10_raw.sql', text: '-- raw tables\nCREATE DATABASE IF NOT EXISTS ${database};\n' },
  { path: 'sql/nightly/README.md', text: '# not SQL' },
  { path: 'sql/nightly/archive/05_old.sql', text: 'SELECT 0;' },
  { path: 'sql/nightly/40_answer.sql', text: '\uFEFFSELECT 42 AS answer;\n' },
];

describe('GitHubSqlSource against a loopback server that answers like the contents API', () => {
  let stub: GitHubStub;
  let waits: number[];

  beforeEach(async () => {
    stub = await startGitHubStub('acme', 'fleet-sql', 'main');
    stub.files = FILES.map((file) => ({ ...file }));
    waits = [];
  });

  afterEach(async () => {
    await stub.close();
  });

  const api = (options: { token?: string; maxRateLimitWaitMs?: number } = {}) =>
    new GitHubApi({
      baseUrl: stub.url,
      token: async () => options.token ?? TOKEN,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
      clock: { now: () => new Date('2026-11-25T01:00:00.000Z') },
      ...(options.maxRateLimitWaitMs === undefined ? {} : { maxRateLimitWaitMs: options.maxRateLimitWaitMs }),
    });

  const source = (options: Parameters<typeof api>[0] = {}, spec = 'acme/fleet-sql/sql/nightly@main') =>
    new GitHubSqlSource({ folder: parseGitHubFolderSpec(spec), api: api(options) });

  /** What a run reads: the branch pinned to its head commit, then the folder at that commit. */
  async function read(sqlSource: GitHubSqlSource) {
    return sqlSource.list(await sqlSource.pin());
  }

  async function failureOf(promise: Promise<unknown>): Promise<Error> {
    const error: unknown = await promise.catch((e: unknown) => e);
    if (!(error instanceof Error)) throw new Error('expected a failure');
    return error;
  }

  it('lists the .sql files directly in the folder, in lexical order, with their raw text', async () => {
    const files = await read(source());

    expect(files).toEqual([
      { name: '10_raw.sql', text: '-- raw tables\nCREATE DATABASE IF NOT EXISTS ${database};\n' },
      { name: '20_vehicles.sql', text: 'INSERT INTO ${database}.v SELECT 1;\n' },
      // The raw body's byte order mark is dropped; the blob sha is checked over the bytes as sent.
      { name: '40_answer.sql', text: 'SELECT 42 AS answer;\n' },
    ]);
    const [pin, listing, ...downloads] = stub.requests;
    const commit = stub.head;
    expect(pin).toEqual({
      path: '/repos/acme/fleet-sql/commits/main',
      accept: 'application/vnd.github.sha',
      authorization: `Bearer ${TOKEN}`,
      userAgent: 'fleet-etl-query-runner',
      apiVersion: '2022-11-28',
    });
    expect(listing).toEqual({
      path: `/repos/acme/fleet-sql/contents/sql/nightly?ref=${commit}`,
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${TOKEN}`,
      userAgent: 'fleet-etl-query-runner',
      apiVersion: '2022-11-28',
    });
    expect(downloads.map((r) => [r.path, r.accept]).sort()).toEqual([
      [
        `/repos/acme/fleet-sql/contents/sql/nightly/10_raw.sql?ref=${commit}`,
        'application/vnd.github.raw+json',
      ],
      [
        `/repos/acme/fleet-sql/contents/sql/nightly/20_vehicles.sql?ref=${commit}`,
        'application/vnd.github.raw+json',
      ],
      [
        `/repos/acme/fleet-sql/contents/sql/nightly/40_answer.sql?ref=${commit}`,
        'application/vnd.github.raw+json',
      ],
    ]);
  });

  it('follows rel="next" links when the listing comes in pages', async () => {
    stub.pageSize = 2;

    const files = await read(source());

    expect(files.map((f) => f.name)).toEqual(['10_raw.sql', '20_vehicles.sql', '40_answer.sql']);
    expect(stub.requests.filter((r) => r.path.includes('/contents/sql/nightly?')).map((r) => r.path)).toEqual(
      [
        `/repos/acme/fleet-sql/contents/sql/nightly?ref=${stub.head}`,
        `/repos/acme/fleet-sql/contents/sql/nightly?ref=${stub.head}&page=2`,
        `/repos/acme/fleet-sql/contents/sql/nightly?ref=${stub.head}&page=3`,
      ],
    );
  });

  it('reads a folder at the repository root', async () => {
    stub.files = [{ path: '10_only.sql', text: 'SELECT 1;' }];

    expect(await read(source({}, 'acme/fleet-sql@main'))).toEqual([
      { name: '10_only.sql', text: 'SELECT 1;' },
    ]);
  });

  it('fails terminally on 401, without the token in the message', async () => {
    const error = await failureOf(read(source({ token: 'ghp_wrong_secret_value' })));

    expect(error).toBeInstanceOf(GitHubTerminalError);
    expect(error.message).toBe(
      'GitHub: resolving the branch of GitHub folder acme/fleet-sql/sql/nightly@main: HTTP 401: Bad credentials: ' +
        'the token was rejected (expired, revoked or mistyped); update the secret',
    );
    expect(error.message).not.toContain('ghp_');
    expect(stub.requests).toHaveLength(1);
  });

  it.each([
    ['a folder that does not exist', 'acme/fleet-sql/sql/weekly@main', 'HTTP 404: Not Found'],
    ['a repository that does not exist', 'acme/other/sql/nightly@main', 'HTTP 404: Not Found'],
    // The commits API answers an unknown ref with 422.
    [
      'a branch that does not exist',
      'acme/fleet-sql/sql/nightly@release',
      'HTTP 422: No commit found for SHA: release: no such branch or tag',
    ],
  ])('fails terminally for %s, naming it', async (_what, spec, answer) => {
    const error = await failureOf(read(source({}, spec)));

    expect(error).toBeInstanceOf(GitHubTerminalError);
    expect(isRetryable(error)).toBe(false);
    expect(error.message).toContain(`GitHub folder ${spec}`);
    expect(error.message).toContain(answer);
  });

  it('waits out a primary rate limit (403, x-ratelimit-remaining 0) until x-ratelimit-reset, then succeeds', async () => {
    const resetEpoch = Date.parse('2026-11-25T01:00:20.000Z') / 1000;
    stub.fault = (_request, response, count) => {
      if (count > 1) return false;
      json(
        response,
        403,
        { message: 'API rate limit exceeded for installation.' },
        {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(resetEpoch),
        },
      );
      return true;
    };

    const files = await read(source());

    expect(files).toHaveLength(3);
    // 20 s to the reset, plus a second of margin.
    expect(waits).toEqual([21_000]);
  });

  it('honours retry-after on a secondary rate limit (429)', async () => {
    stub.fault = (_request, response, count) => {
      if (count > 1) return false;
      json(response, 429, { message: 'You have exceeded a secondary rate limit.' }, { 'retry-after': '3' });
      return true;
    };

    await read(source());

    expect(waits).toEqual([3_000]);
  });

  it('gives up with a TransientError, saying when to come back, when the rate limit resets too late', async () => {
    stub.fault = (_request, response) => {
      json(
        response,
        403,
        { message: 'API rate limit exceeded for user ID 1.' },
        {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Date.parse('2026-11-25T01:40:00.000Z') / 1000),
        },
      );
      return true;
    };

    const error = await failureOf(read(source({ maxRateLimitWaitMs: 60_000 })));

    expect(error).toBeInstanceOf(GitHubTransientError);
    expect(error).toMatchObject({ status: 403, retryAfterMs: 2_401_000 });
    expect(error.message).toMatch(
      /rate limited \(HTTP 403: API rate limit exceeded.*retry after 2026-11-25T01:40:01\.000Z/,
    );
    expect(waits).toEqual([]);
    expect(stub.requests).toHaveLength(1);
  });

  it('treats a 403 without rate-limit signs as a refusal', async () => {
    stub.fault = (_request, response) => {
      json(response, 403, { message: 'Resource not accessible by personal access token' });
      return true;
    };

    const error = await failureOf(read(source()));

    expect(error).toBeInstanceOf(GitHubTerminalError);
    expect(error.message).toMatch(/HTTP 403: Resource not accessible.*Contents: read/);
  });

  it('retries 5xx answers with backoff, then gives up with a TransientError', async () => {
    stub.fault = (_request, response) => {
      json(response, 502, { message: 'Server Error' });
      return true;
    };

    const error = await failureOf(read(source()));

    expect(error).toBeInstanceOf(GitHubTransientError);
    expect(stub.requests).toHaveLength(4);
    expect(waits).toEqual([250, 500, 1_000]);
  });

  it('reads the folder at the pinned commit, whatever is pushed to the branch after', async () => {
    const source_ = source();
    const pinned = await source_.pin();
    const before = await source_.list(pinned);

    // A push edits one file, adds one and deletes one.
    stub.push([
      ...FILES.filter((f) => !f.path.endsWith('40_answer.sql')).map((f) =>
        f.path.endsWith('20_vehicles.sql') ? { ...f, text: 'INSERT INTO ${database}.v SELECT 2;\n' } : f,
      ),
      { path: 'sql/nightly/30_new.sql', text: 'SELECT 3;' },
    ]);
    const after = await source_.list(pinned);
    const repinned = await source_.pin();

    expect(pinned).toEqual({ commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(after).toEqual(before);
    expect(repinned).toEqual({ commit: stub.head });
    expect(repinned).not.toEqual(pinned);
    expect((await source_.list(repinned)).map((f) => [f.name, f.text])).toEqual([
      ['10_raw.sql', '-- raw tables\nCREATE DATABASE IF NOT EXISTS ${database};\n'],
      ['20_vehicles.sql', 'INSERT INTO ${database}.v SELECT 2;\n'],
      ['30_new.sql', 'SELECT 3;'],
    ]);
  });

  it('does not see a push that lands between the listing and a download', async () => {
    let pushed = false;
    stub.fault = (request) => {
      if (!pushed && request.accept.includes('raw')) {
        pushed = true;
        stub.push(
          stub.files.map((f) =>
            f.path.endsWith('20_vehicles.sql') ? { ...f, text: 'INSERT INTO ${database}.v SELECT 2;\n' } : f,
          ),
        );
      }
      return false;
    };

    const files = await read(source());

    expect(pushed).toBe(true);
    expect(files.find((f) => f.name === '20_vehicles.sql')?.text).toBe(
      'INSERT INTO ${database}.v SELECT 1;\n',
    );
    expect(stub.requests.filter((r) => r.path.includes('/contents/sql/nightly?'))).toHaveLength(1);
  });

  it('refuses a body that is not the blob the listing named, as a transient failure', async () => {
    stub.fault = (request, response) => {
      if (!request.path.includes('20_vehicles.sql')) return false;
      response.writeHead(200, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
      response.end('INSERT INTO ${database}.v SELECT 9;\n');
      return true;
    };

    const error = await failureOf(read(source()));

    expect(error).toBeInstanceOf(GitHubTransientError);
    expect(error.message).toMatch(
      /20_vehicles\.sql at commit [0-9a-f]{40} arrived with other content than its blob/,
    );
  });

  it('refuses an answer that inflates past 4 MiB without holding it (a gzip bomb as a file), naming the file', async () => {
    // 16 MiB of zeros, 16 KiB on the wire: fetch inflates it as it reads.
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    stub.fault = (request, response) => {
      if (!request.path.includes('20_vehicles.sql')) return false;
      response.writeHead(200, { 'content-type': 'application/vnd.github.raw', 'content-encoding': 'gzip' });
      response.end(bomb);
      return true;
    };

    const error = await failureOf(read(source()));

    expect(error).toBeInstanceOf(GitHubTerminalError);
    expect(error.message).toMatch(/20_vehicles\.sql.*the answer is larger than 4 MiB/);
  });

  it('still retries a 5xx whose body inflates past the limit, without holding it', async () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    let bombs = 0;
    stub.fault = (request, response) => {
      if (!request.path.includes('20_vehicles.sql') || bombs > 0) return false;
      bombs += 1;
      response.writeHead(503, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
      response.end(bomb);
      return true;
    };

    const files = await read(source());

    expect(files.map((file) => file.name)).toContain('20_vehicles.sql');
    expect(waits).toHaveLength(1);
  });

  it('refuses a .sql file whose name cannot travel in the events', async () => {
    stub.files.push({ path: 'sql/nightly/50 my answer.sql', text: 'SELECT 1;' });

    const error = await failureOf(read(source()));

    expect(error).toBeInstanceOf(GitHubTerminalError);
    expect(error.message).toContain('file name "50 my answer.sql" is not usable');
  });

  it('refuses a path that is a file, not a folder', async () => {
    const error = await failureOf(read(source({}, 'acme/fleet-sql/sql/nightly/10_raw.sql@main')));

    expect(error).toBeInstanceOf(GitHubTerminalError);
    expect(error.message).toContain('the path is not a folder');
  });

  it('fails with a TransientError when the server cannot be reached', async () => {
    await stub.close();

    const error = await failureOf(read(source()));

    expect(error).toBeInstanceOf(GitHubTransientError);
    expect(error.message).toMatch(/request failed/);
    expect(waits).toHaveLength(3);
  });
});
