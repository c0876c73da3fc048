import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { performance } from 'node:perf_hooks';
import { toEpochNanos } from '../../src/logs/time-input.js';
import { captureWarnings } from './helpers.js';

const test = suite('logs/time-input');

test('step table: every TimeInput form', () => {
  const steps: [string, unknown, bigint][] = [
    ['epoch ms integer', 1_700_000_000_123, 1_700_000_000_123_000_000n],
    ['epoch ms with fraction', 1_700_000_000_123.5, 1_700_000_000_123_500_000n],
    ['HrTime', [1_700_000_000, 123_456_789], 1_700_000_000_123_456_789n],
    ['Date', new Date(1_700_000_000_123), 1_700_000_000_123_000_000n],
    ['bigint ns', 1_700_000_000_123_456_789n, 1_700_000_000_123_456_789n],
    ['bigint zero', 0n, 0n],
    ['uint64 max', 2n ** 64n - 1n, 2n ** 64n - 1n],
  ];
  for (const [name, input, want] of steps) assert.is(toEpochNanos(input, 'timestamp'), want, name);
});

test('small numbers are performance.now() readings, as in the official SDK', () => {
  const got = toEpochNanos(1500.25, 'timestamp');
  const origin = BigInt(Math.floor(performance.timeOrigin * 1000)) * 1000n;
  assert.ok(got !== undefined);
  const delta = got! - origin;
  // 1500.25 ms after the origin, give or take the sub-microsecond part of timeOrigin.
  assert.ok(delta > 1_500_249_000n && delta < 1_500_252_000n, String(delta));
});

test('invalid inputs give undefined with one warning per field', () => {
  const w = captureWarnings();
  try {
    const bad: unknown[] = [-1, Number.NaN, Infinity, -5n, 2n ** 64n, new Date(Number.NaN), [1], [1, 2, 3], [-1, 0], [1.5, 0], 'now', {}, true];
    for (const v of bad) assert.is(toEpochNanos(v, 'timestamp'), undefined, String(v));
    assert.is(w.messages.length, 1);
    assert.match(w.messages[0]!, /timestamp = -1 is not a time/);
    toEpochNanos('x', 'observedTimestamp');
    assert.is(w.messages.length, 2);
  } finally {
    w.restore();
  }
});

test.run();
