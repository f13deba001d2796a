import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createGzip } from 'node:zlib';
import {
  type Behaviour,
  type HostileOptions,
  HostileOptionsSchema,
  type HostileStats,
  type PageTarget,
} from './hostile-options.js';

/**
 * A fleet API that is not the simulator: a process of its own, written against the wire contract only (README's
 * `etl sim` section: `POST /oauth/token` with client credentials, `GET /v1/vehicles` and `/v1/sensors` with
 * `fromCreationDate`, `toCreationDate`, `timeZone`, `pageSize` and `page`, bodies `{page, page_size, total_pages,
 * total_items, data}`), and none of fleet-etl's code. It serves the rows of its start file and misbehaves in one
 * way, the start file's `behaviour`, over real sockets on 127.0.0.1.
 *
 * Run: `node --import tsx server.ts OPTIONS.json`. It prints one JSON line, `{url, elsewhere}`, once listening,
 * answers `GET /_stats` with what it saw, and exits when its stdin ends (its parent closed it, or went away) or
 * after `lifetimeSeconds`.
 */

type Dataset = 'vehicles' | 'sensors';
type Row = HostileOptions['rows'][Dataset][number];

const LOOPBACK = '127.0.0.1';
const MAX_FORM_BYTES = 16 * 1024;

const options: HostileOptions = HostileOptionsSchema.parse(
  JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')),
);
const behaviour: Behaviour = options.behaviour;

const stats: HostileStats = {
  requests: { token: 0, vehicles: 0, sensors: 0, other: 0 },
  elsewhereRequests: 0,
  pageRequests: {},
  faults: 0,
  unauthorized: 0,
  tokensIssued: [],
  abandonedByClient: 0,
};
/** Valid tokens and how many page requests each has authorised. */
const tokens = new Map<string, number>();
let requestSerial = 0;
const bomb = behaviour.kind === 'gzip-bomb' ? await gzipBomb(behaviour) : undefined;

const api = createServer((request, response) => {
  void answer(request, response).catch(() => response.destroy());
});
const elsewhere = createServer((request, response) => {
  // Another origin: whatever reaches it was sent where the client should never have sent it.
  stats.elsewhereRequests += 1;
  request.resume();
  request.on('end', () =>
    sendJson(response, 200, { access_token: 'elsewhere', token_type: 'Bearer', expires_in: 3600 }),
  );
});
const url = await listen(api);
const elsewhereUrl = await listen(elsewhere);
process.stdout.write(`${JSON.stringify({ url, elsewhere: elsewhereUrl })}\n`);

const lifetime = setTimeout(shutdown, options.lifetimeSeconds * 1000);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();

function shutdown(): void {
  clearTimeout(lifetime);
  for (const server of [api, elsewhere]) {
    server.closeAllConnections();
    server.close();
  }
  process.exit(0);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
  return `http://${LOOPBACK}:${address.port}`;
}

async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { pathname, searchParams } = new URL(request.url ?? '/', `http://${LOOPBACK}`);
  response.on('close', () => {
    if (!response.writableFinished) stats.abandonedByClient += 1;
  });
  if (pathname === '/_stats') return sendJson(response, 200, stats);
  if (pathname === '/oauth/token') return answerToken(request, response);
  if (pathname === '/v1/vehicles') return answerPage('vehicles', request, response, searchParams);
  if (pathname === '/v1/sensors') return answerPage('sensors', request, response, searchParams);
  stats.requests.other += 1;
  sendJson(response, 404, { error: 'not_found' });
}

async function answerToken(request: IncomingMessage, response: ServerResponse): Promise<void> {
  stats.requests.token += 1;
  if (behaviour.kind === 'token-redirect') {
    stats.faults += 1;
    request.resume();
    response.writeHead(behaviour.status, { location: `${elsewhereUrl}/oauth/token` });
    response.end();
    return;
  }
  const form = new URLSearchParams((await readBody(request)) ?? '');
  const client = clientOf(request.headers.authorization, form);
  if (client?.id !== options.clientId || client.secret !== options.clientSecret) {
    return sendJson(response, 401, { error: 'invalid_client' });
  }
  if (form.get('grant_type') !== 'client_credentials') {
    return sendJson(response, 400, { error: 'unsupported_grant_type' });
  }
  if (behaviour.kind === 'gzip-bomb' && behaviour.where === 'token' && bomb !== undefined) {
    stats.faults += 1;
    return sendGzip(response, 200, bomb);
  }
  const token = `hostile-${randomUUID()}`;
  tokens.set(token, 0);
  stats.tokensIssued.push(token);
  sendJson(response, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
}

function answerPage(
  dataset: Dataset,
  request: IncomingMessage,
  response: ServerResponse,
  search: URLSearchParams,
): void {
  stats.requests[dataset] += 1;
  request.resume();
  const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const used = token === undefined ? undefined : tokens.get(token);
  if (token === undefined || used === undefined) {
    stats.unauthorized += 1;
    sendJson(response, 401, { error: 'invalid_token' });
    return;
  }
  if (behaviour.kind === 'tokens-revoked' && used >= behaviour.afterPageRequests) {
    // The provider ended the session early (rotation, a restart, a clock of its own): this token is done.
    tokens.delete(token);
    stats.unauthorized += 1;
    stats.faults += 1;
    sendJson(response, 401, { error: 'invalid_token', error_description: 'the token was revoked' });
    return;
  }
  tokens.set(token, used + 1);
  const query = pageQuery(search);
  if (query === undefined) {
    sendJson(response, 400, { error: 'invalid_request' });
    return;
  }
  const { page, pageSize } = query;
  const key = `${dataset}:${page}`;
  const attempt = (stats.pageRequests[key] ?? 0) + 1;
  stats.pageRequests[key] = attempt;
  const target = 'target' in behaviour && isTarget(behaviour.target, dataset, page);

  if (behaviour.kind === 'retry-after' && target) {
    stats.faults += 1;
    sendJson(response, 429, { error: 'too_many_requests' }, { 'retry-after': behaviour.header });
    return;
  }
  if (behaviour.kind === 'html-200' && attempt === 1) {
    stats.faults += 1;
    response.writeHead(200, { 'content-type': behaviour.contentType });
    response.end('<!doctype html><html><body><h1>Please sign in</h1></body></html>');
    return;
  }
  if (behaviour.kind === 'gzip-bomb' && behaviour.where !== 'token' && target && attempt === 1 && bomb) {
    stats.faults += 1;
    sendGzip(response, behaviour.where === 'page' ? 200 : 503, bomb);
    return;
  }
  if (behaviour.kind === 'slow-drip' && target && attempt === 1) {
    stats.faults += 1;
    drip(response, behaviour.intervalMs);
    return;
  }

  const night = rowsOf(dataset, query.fromMs, query.toMs);
  requestSerial += 1;
  const all = behaviour.kind === 'unstable-order' ? reordered(night, requestSerial) : night;
  const totalPages = Math.ceil(all.length / pageSize);
  const from = behaviour.kind === 'ignores-page' ? 0 : (page - 1) * pageSize;
  const rows = all.slice(from, from + pageSize);
  const echoed =
    behaviour.kind === 'echoes-wrong-page'
      ? page + 1
      : behaviour.kind === 'no-page-echo' || (behaviour.kind === 'ignores-page' && behaviour.echo === 'none')
        ? undefined
        : page;
  const totalText =
    behaviour.kind === 'total-pages-zero'
      ? '0'
      : behaviour.kind === 'total-pages-text'
        ? behaviour.text
        : String(totalPages);
  if (isFaulty(behaviour, rows, page, query)) stats.faults += 1;
  const rowsText = rows.map((row) => JSON.stringify(row));
  if (behaviour.kind === 'invalid-json' && target && rowsText.length > 0) {
    // A trailing comma inside the last row: the grammar is broken, every time, where no parser may guess.
    rowsText[rowsText.length - 1] = `${rowsText.at(-1)?.slice(0, -1)},}`;
    stats.faults += 1;
  }
  const body =
    `{${echoed === undefined ? '' : `"page":${echoed},`}"page_size":${pageSize},"total_pages":${totalText},` +
    `"total_items":${all.length},"data":[${rowsText.join(',')}]}`;
  if (behaviour.kind === 'truncated-first-answers' && attempt === 1) {
    stats.faults += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    const half = body.slice(0, Math.floor(body.length / 2));
    // Alternately a clean end (the body is simply short) and a dropped connection, as proxies and crashes cut.
    if (stats.faults % 2 === 0) response.end(half);
    else response.write(half, () => setImmediate(() => response.destroy()));
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  response.end(body);
}

/** Whether this answer carries the behaviour's fault (for the count the scenario reports). */
function isFaulty(
  current: Behaviour,
  rows: readonly Row[],
  page: number,
  query: { fromMs: number; toMs: number },
): boolean {
  switch (current.kind) {
    case 'ignores-date-filter':
      return rows.some((row) => !within(row, query.fromMs, query.toMs));
    case 'total-pages-zero':
      return rows.length > 0;
    case 'ignores-page':
      return page > 1;
    case 'echoes-wrong-page':
    case 'no-page-echo':
    case 'unstable-order':
    case 'total-pages-text':
      return true;
    default:
      return false;
  }
}

function rowsOf(dataset: Dataset, fromMs: number, toMs: number): Row[] {
  const rows: readonly Row[] = options.rows[dataset];
  if (behaviour.kind === 'ignores-date-filter') return [...rows];
  return rows.filter((row) => within(row, fromMs, toMs));
}

function within(row: Row, fromMs: number, toMs: number): boolean {
  const created = Date.parse(row.created_at);
  return created >= fromMs && created < toMs;
}

/** The same rows in another order, one per request: a sort on a hash of the row's place and the request. */
function reordered(rows: readonly Row[], serial: number): Row[] {
  return rows
    .map((row, index) => ({ row, key: mix(serial * 1_000_003 + index) }))
    .sort((a, b) => a.key - b.key)
    .map(({ row }) => row);
}

/** mulberry32's output function: a well-spread 32-bit hash of an integer. */
function mix(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

function isTarget(target: PageTarget, dataset: Dataset, page: number): boolean {
  return target.dataset === dataset && target.page === page;
}

function pageQuery(
  search: URLSearchParams,
): { fromMs: number; toMs: number; page: number; pageSize: number } | undefined {
  const fromMs = Date.parse(search.get('fromCreationDate') ?? '');
  const toMs = Date.parse(search.get('toCreationDate') ?? '');
  const page = Number(search.get('page') ?? '1');
  const pageSize = Number(search.get('pageSize') ?? '1000');
  if (Number.isNaN(fromMs) || Number.isNaN(toMs) || fromMs >= toMs) return undefined;
  if (!Number.isSafeInteger(page) || page < 1) return undefined;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 50_000) return undefined;
  return { fromMs, toMs, page, pageSize };
}

/** Headers, then the start of a page one byte at a time, until the client stops reading. */
function drip(response: ServerResponse, intervalMs: number): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  const text = `{"page":1,"page_size":100,"total_pages":1,"data":[${' '.repeat(1_000_000)}`;
  let at = 0;
  const timer = setInterval(() => {
    if (response.destroyed || at >= text.length) {
      clearInterval(timer);
      response.destroy();
      return;
    }
    response.write(text.charAt(at));
    at += 1;
  }, intervalMs);
  response.on('close', () => clearInterval(timer));
}

/**
 * A gzip stream that inflates to `inflatedMiB` MiB: JSON whitespace inside an object, so that whatever reads it
 * whole holds all of it before it can tell it is too large. Computed once at start (about 1 KiB per MiB).
 */
async function gzipBomb(spec: Extract<Behaviour, { kind: 'gzip-bomb' }>): Promise<Buffer> {
  const suffix =
    spec.where === 'token'
      ? '"access_token":"bomb","token_type":"Bearer"}'
      : spec.where === 'error-body'
        ? '"error":"temporarily_unavailable"}'
        : '"page":1,"page_size":100,"total_pages":1,"data":[]}';
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => gzip.on('end', resolve));
  const spaces = Buffer.alloc(1024 * 1024, 0x20);
  gzip.write('{');
  for (let i = 0; i < spec.inflatedMiB; i++) {
    if (!gzip.write(spaces)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end(suffix);
  await ended;
  return Buffer.concat(chunks);
}

function sendGzip(response: ServerResponse, status: number, body: Buffer): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
    'content-length': String(body.length),
  });
  response.end(body);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  let text = '';
  for await (const chunk of request) {
    text += String(chunk);
    if (text.length > MAX_FORM_BYTES) return undefined;
  }
  return text;
}

/** Client credentials from HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or from the form body. */
function clientOf(
  authorization: string | undefined,
  form: URLSearchParams,
): { id: string; secret: string } | undefined {
  const basic = /^Basic (\S+)$/i.exec(authorization ?? '')?.[1];
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const unform = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  return id === null || secret === null ? undefined : { id, secret };
}
