import type { Timing } from '../../../../../services/adapters/http/timing.js';

/** A clock moved by hand; a sleep returns at once with the clock moved to its deadline (and is recorded). */
export class ManualTiming implements Timing {
  readonly sleeps: { from: number; until: number }[] = [];
  constructor(public at = Date.parse('2026-11-25T01:00:00.000Z')) {}

  now(): number {
    return this.at;
  }

  async sleepUntil(deadline: number): Promise<void> {
    this.sleeps.push({ from: this.at, until: deadline });
    this.at = Math.max(this.at, deadline);
  }

  advance(ms: number): void {
    this.at += ms;
  }
}

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export type Reply = Response | (() => Response) | Error;

/**
 * A `fetch` that answers from a script: one reply per request to a URL's path, the last one repeated. Requests are
 * recorded with the (manual) time they were sent.
 */
export function scriptedFetch(
  script: Record<string, Reply[]>,
  timing: { now(): number },
): typeof fetch & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const served = new Map<string, number>();
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    requests.push({
      url: url.toString(),
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? init.body : '',
      at: timing.now(),
    });
    const replies = script[url.pathname] ?? [];
    const index = served.get(url.pathname) ?? 0;
    served.set(url.pathname, index + 1);
    const reply = replies[Math.min(index, replies.length - 1)];
    if (reply === undefined) return new Response('{"error":"not_found"}', { status: 404 });
    if (reply instanceof Error) throw reply;
    if (typeof reply === 'function') return reply();
    // A copy, not a clone: a clone's body is a tee, and cancelling one side of a tee waits for the other.
    return new Response(await reply.clone().arrayBuffer(), { status: reply.status, headers: reply.headers });
  };
  return Object.assign(fake, { requests });
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

export const tokenReply = (token = 'token-1', expiresIn = 3600) =>
  json(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });

/**
 * A response whose body is `chunks` pieces of 64 KiB of JSON whitespace after `{` (a gzip bomb, as fetch hands it
 * over once inflated), generated as it is read; `pulled()` says how many pieces were read.
 */
export function hugeBody(status: number, chunks = 1_024, headers: Record<string, string> = {}) {
  let pulled = 0;
  const piece = new Uint8Array(64 * 1024).fill(0x20);
  const response = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{'));
        },
        pull(controller) {
          pulled += 1;
          if (pulled > chunks) {
            controller.enqueue(new TextEncoder().encode('"error":"temporarily_unavailable"}'));
            controller.close();
          } else {
            controller.enqueue(piece);
          }
        },
      }),
      { status, headers: { 'content-type': 'application/json', ...headers } },
    );
  return { response, pulled: () => pulled };
}
