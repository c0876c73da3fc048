/**
 * Seeded byte mutations shared by the fuzz targets (test/fuzz/untrusted.ts, test/export/durable/fuzz.ts):
 * the format-blind ones here, each target adding what its format makes interesting (forged varints or
 * frame lengths, spliced requests or segments) as `special` mutations.
 */

/** A seeded integer in [0, n). */
export type Pick = (n: number) => number;

/** A format-aware mutation of `b` at offset `at`; returns the new bytes (may change `b` in place). */
export type Mutation = (b: Uint8Array, at: number, pick: Pick) => Uint8Array;

/** Concatenation of byte ranges and plain byte lists. */
export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * 1–3 mutations of a copy of `input`, each drawn from the format-blind ones (bit flips, a random
 * overwrite, truncation, insertion, deletion, a duplicated range) and `special`, with equal weight.
 * `run` bounds the length of an overwritten or inserted run (deletions take up to twice that).
 */
export function mutateBytes(input: Uint8Array, pick: Pick, run: number, special: readonly Mutation[] = []): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  const steps = 1 + pick(3);
  for (let s = 0; s < steps; s++) {
    const at = pick(Math.max(1, b.length));
    const kind = pick(6 + special.length);
    switch (kind) {
      case 0: // bit flips
        for (let k = 0, n = 1 + pick(8); k < n && b.length > 0; k++) {
          const i = pick(b.length);
          b[i] = b[i]! ^ (1 << pick(8));
        }
        break;
      case 1: // random overwrite
        for (let i = at, end = Math.min(b.length, at + 1 + pick(run)); i < end; i++) b[i] = pick(256);
        break;
      case 2: // truncation
        b = b.subarray(0, at);
        break;
      case 3: // insertion of random bytes
        b = concat(
          b.subarray(0, at),
          Array.from({ length: 1 + pick(run) }, () => pick(256)),
          b.subarray(at),
        );
        break;
      case 4: // deletion
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(2 * run))));
        break;
      case 5: // a range duplicated (repeated fields or frames: sequence numbers go back)
        b = concat(b.subarray(0, at), b.subarray(pick(Math.max(1, at)), at), b.subarray(at));
        break;
      default:
        b = special[kind - 6]!(b, at, pick);
    }
  }
  return b;
}
