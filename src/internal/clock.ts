/**
 * Time source. Collections read it once per pass; tests inject a manual clock.
 * Times are bigint nanoseconds since the Unix epoch, as OTLP carries them.
 */
export interface Clock {
  nowNanos(): bigint;
}

const origin = BigInt(Date.now()) * 1_000_000n;
const hrOrigin = process.hrtime.bigint();

/** Wall-clock anchored once, advanced by the monotonic clock (no jumps backwards). */
export const systemClock: Clock = {
  nowNanos: () => origin + (process.hrtime.bigint() - hrOrigin),
};

/** A clock tests move by hand. */
export function manualClock(startNanos = 1_700_000_000_000_000_000n): Clock & { advance(nanos: bigint): void; set(nanos: bigint): void } {
  let now = startNanos;
  return {
    nowNanos: () => now,
    advance(nanos: bigint) {
      now += nanos;
    },
    set(nanos: bigint) {
      now = nanos;
    },
  };
}
