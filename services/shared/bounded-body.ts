/**
 * A response body read up to a limit, never whole: fetch inflates gzip, deflate and br bodies as it hands them over,
 * so a kilobyte on the wire can be a gigabyte here, and `Response.arrayBuffer()` or `text()` would hold all of it (a
 * hostile token endpoint's gzip bomb took `etl run` to 900 MiB). Returns the bytes, or undefined when the body is
 * longer than `limitBytes` (the rest is neither read nor kept, and the stream is cancelled).
 */
export async function readBodyAtMost(
  response: Response,
  limitBytes: number,
): Promise<Uint8Array | undefined> {
  const { body } = response;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
}
