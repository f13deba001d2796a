import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** Answers a request with a JSON body. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export interface LoopbackServer {
  url: string;
  close: () => Promise<void>;
}

/**
 * Serves a test's own HTTP API on 127.0.0.1 at a free port. It stops by itself after `stopAfterMs` should a test
 * forget to close it, and never keeps the test process alive.
 */
export async function serveOnLoopback(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  stopAfterMs = 120_000,
): Promise<LoopbackServer> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the test API is not on a port');
  const stopTimer = setTimeout(() => server.close(), stopAfterMs);
  stopTimer.unref();
  server.unref();
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(stopTimer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A client-credentials token endpoint's answer: reads the request to its end, then hands out `token`. */
export function answerTokenRequest(request: IncomingMessage, response: ServerResponse, token: string): void {
  request.resume();
  request.on('end', () =>
    sendJson(response, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 }),
  );
}
