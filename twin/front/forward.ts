import http from 'node:http';
import type { FrontResponse } from './aws-error-responses.js';

export interface ForwardedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Headers that describe one hop, not the request: the front sets its own. */
const HOP_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'expect',
]);

/** Sends a request, body already read, to the emulator and reads its whole answer. */
export function forward(upstream: URL, request: ForwardedRequest): Promise<FrontResponse> {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!HOP_HEADERS.has(name) && value !== undefined) headers[name] = value;
  }
  headers.host = upstream.host;
  headers['content-length'] = String(request.body.length);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.path,
        headers,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const answer: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            // A HEAD answer's content-length is the object's size, not the (empty) body's: it is kept.
            if ((name === 'content-length' || !HOP_HEADERS.has(name)) && value !== undefined)
              answer[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: response.statusCode ?? 502, headers: answer, body: Buffer.concat(chunks) });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
