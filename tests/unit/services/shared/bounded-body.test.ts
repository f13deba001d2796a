import { readBodyAtMost } from '../../../../services/shared/bounded-body.js';

/** A body of `chunks` pieces of `size` bytes, counting how many were pulled; `cancel` as the test says. */
function streamed(chunks: number, size: number, cancel: () => void = () => undefined) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) {
        controller.close();
        return;
      }
      pulled += 1;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
    cancel,
  });
  return { response: new Response(body), pulled: () => pulled };
}

describe('a response body read up to a limit', () => {
  it('returns the whole body when it fits, and an empty one for no body', async () => {
    const { response } = streamed(3, 10);
    expect(new TextDecoder().decode(await readBodyAtMost(response, 30))).toBe('a'.repeat(30));
    expect(await readBodyAtMost(new Response(null, { status: 204 }), 30)).toEqual(new Uint8Array(0));
  });

  it('stops reading past the limit, cancels the rest and says so', async () => {
    let cancelled = false;
    const { response, pulled } = streamed(1_000, 1024, () => {
      cancelled = true;
    });
    expect(await readBodyAtMost(response, 4096)).toBeUndefined();
    expect(cancelled).toBe(true);
    expect(pulled()).toBeLessThan(10);
  });

  it('still says "too large" when cancelling the stream fails', async () => {
    const { response } = streamed(100, 1024, () => {
      throw new Error('the connection is already gone');
    });
    await expect(readBodyAtMost(response, 2048)).resolves.toBeUndefined();
  });
});
