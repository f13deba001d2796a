/**
 * Seeded randomness for the simulated world. Every stream is keyed by a hash of what it describes (seed,
 * vehicle, day, session), never by how much was drawn before, so any slice of the world can be generated on
 * its own and comes out byte-identical to the same slice generated as part of a larger one.
 */

const GOLDEN = 0x9e3779b9;

/** One MurmurHash3 round: folds a 32-bit word into the running hash. */
function fold(hash: number, word: number): number {
  let k = Math.imul(word | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = hash ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function avalanche(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit key from a seed and a few small non-negative integers. Seeds may exceed 32 bits, so both halves are
 * folded in; the parts (vehicle index, day, salt) stay well inside 32 bits.
 */
export function streamKey(seed: number, a: number, b = 0, c = 0, d = 0): number {
  let h = fold(GOLDEN, seed >>> 0);
  h = fold(h, Math.floor(seed / 0x1_0000_0000));
  h = fold(h, a);
  h = fold(h, b);
  h = fold(h, c);
  h = fold(h, d);
  return avalanche(h);
}

/** mulberry32: tiny, fast, and good enough for simulated sensor data (not for anything secret). */
export class Mulberry32 {
  private state: number;

  constructor(key: number) {
    this.state = key | 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** A float in [low, high). */
  between(low: number, high: number): number {
    return low + this.next() * (high - low);
  }
}

/** A float in [0, 1) from a key alone, for one-off draws that need no stream. */
export function unitFloat(key: number): number {
  return new Mulberry32(key).next();
}
