/**
 * A 64-bit non-cryptographic hash of byte ranges, kept as two 32-bit lanes: for identities that
 * are compared without keeping their bytes (the gateway's temporality state holds 8 bytes per
 * stream instead of the stream's resource, scope, metric and attributes).
 *
 * Each lane is MurmurHash3's 32-bit block mixing with its own constants (the first and second
 * lanes of MurmurHash3_x86_128), cross-mixed and finalised with fmix32 when read. Ranges are
 * hashed one after the other into the running state, so an identity made of several fields is
 * hashed where it lies, with no concatenation; callers hash whole protobuf fields (tag and
 * length included), which delimits them.
 *
 * Not collision-resistant against an adversary: a client that can choose its bytes could make
 * two of its own streams collide. Between honest streams, n streams collide with probability
 * about n²/2^65 (2.7e-10 for 100,000).
 */

/** The running state; `seed()` before each identity. Plain fields: a hot object. */
export class ByteHash {
  a = 0;
  b = 0;

  /** Starts from a given state (a prefix's result: `hi`/`lo` of an earlier hash). */
  seed(a: number, b: number): this {
    this.a = a | 0;
    this.b = b | 0;
    return this;
  }

  /** Hashes buf[start, end) into the state. */
  update(buf: Uint8Array, start: number, end: number): this {
    let a = this.a;
    let b = this.b;
    let i = start;
    for (const last = end - 3; i < last; i += 4) {
      const k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
      let k1 = Math.imul(k, 0x239b961b);
      k1 = Math.imul((k1 << 15) | (k1 >>> 17), 0xab0e9789);
      a ^= k1;
      a = (Math.imul((a << 19) | (a >>> 13), 5) + 0x561ccd1b) | 0;
      let k2 = Math.imul(k, 0xab0e9789);
      k2 = Math.imul((k2 << 16) | (k2 >>> 16), 0x38b34ae5);
      b ^= k2;
      b = (Math.imul((b << 17) | (b >>> 15), 5) + 0x0bcaa747) | 0;
    }
    // The last 1-3 bytes, and the range's length, so that "ab"+"c" and "a"+"bc" differ.
    let k = end - start;
    for (let s = 8; i < end; i++, s += 8) k ^= buf[i]! << s;
    a ^= Math.imul(k, 0x239b961b);
    b ^= Math.imul(k, 0x38b34ae5);
    this.a = a;
    this.b = b;
    return this;
  }

  /** Hashes one 32-bit number (a field number, a flag) into the state. */
  word(v: number): this {
    this.a = (Math.imul(this.a ^ v, 0x239b961b) + 0x561ccd1b) | 0;
    this.b = (Math.imul(this.b ^ v, 0x38b34ae5) + 0x0bcaa747) | 0;
    return this;
  }

  /** The high 32 bits of the hash of everything so far (unsigned). */
  get hi(): number {
    return fmix32((this.a + this.b) | 0) >>> 0;
  }

  /** The low 32 bits (unsigned). */
  get lo(): number {
    return fmix32((this.b + this.a + this.a) | 0) >>> 0;
  }
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
