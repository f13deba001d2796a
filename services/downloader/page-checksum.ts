import { createHash, type Hash } from 'node:crypto';

/** SHA-256, hex: what the ledger keeps of a stored page's bytes (docs/decisions/0090). */
const PAGE_CHECKSUM = 'sha256';

/** The checksum of bytes at hand (a page read back on a resume). */
export function pageChecksum(body: Uint8Array): string {
  return createHash(PAGE_CHECKSUM).update(body).digest('hex');
}

/**
 * Hashes a page's bytes on their way into the object store, chunk by chunk as the store reads them, so the page is
 * never read a second time to checksum it. `digest()` answers only once the store has read the stream to its end:
 * the checksum of a part of a page must never be recorded as the page's.
 */
export function checksumWhileWriting(body: AsyncIterable<Uint8Array>): {
  body: AsyncIterable<Uint8Array>;
  digest(): string;
} {
  const hash: Hash = createHash(PAGE_CHECKSUM);
  let ended = false;
  async function* hashing() {
    for await (const chunk of body) {
      hash.update(chunk);
      yield chunk;
    }
    ended = true;
  }
  return {
    body: hashing(),
    digest() {
      if (!ended) throw new Error('the object store returned before reading the whole page');
      return hash.digest('hex');
    },
  };
}
