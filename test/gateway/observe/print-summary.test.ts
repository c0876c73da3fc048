import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tally } from '../../../src/gateway/observe/tally.js';
import {
  formatBasicSummary,
  formatBytes,
  formatCount,
  formatDuration,
  formatMs,
  formatRate,
  formatTable,
  type SummaryInput,
} from '../../../src/gateway/observe/print-summary.js';

const test = suite('gateway/print-summary');

test('numbers: grouping, rates, bytes, latencies, durations', () => {
  const table: Array<[string, string]> = [
    [formatCount(0), '0'],
    [formatCount(999), '999'],
    [formatCount(1000), '1,000'],
    [formatCount(1234567), '1,234,567'],
    [formatCount(1234.56), '1,234.6'],
    [formatRate(5, 10_000), '0.5'],
    [formatRate(1234, 1000), '1,234'],
    [formatRate(99.94, 1000), '99.9'],
    [formatRate(3, 0), '0'],
    [formatBytes(1023), '1023 B'],
    [formatBytes(1536), '1.5 KiB'],
    [formatBytes(5 * 1024 * 1024), '5.0 MiB'],
    [formatBytes(3 * 1024 ** 3), '3.0 GiB'],
    [formatMs(0.123), '0.12 ms'],
    [formatMs(12.34), '12.3 ms'],
    [formatMs(2500), '2.50 s'],
    [formatDuration(9500), '9.5s'],
    [formatDuration(125_000), '2m 5s'],
    [formatDuration(3_723_000), '1h 2m 3s'],
  ];
  for (const [got, want] of table) assert.is(got, want);
});

test('table: names left-aligned, numbers right-aligned, no trailing spaces', () => {
  assert.is(
    formatTable(
      ['name', 'kind', 'n'],
      [
        ['a', 'grpc', '1'],
        ['longer', 'http/json', '1,000'],
      ],
      2,
    ),
    '  name    kind           n\n  a       grpc           1\n  longer  http/json  1,000\n',
  );
});

test('basic line: signals without traffic are left out, draining shown', () => {
  const tally = new Tally({ maxServiceNames: 10, maxTenants: 10 });
  tally.request('traces', undefined, [], 12, 1200);
  const input: SummaryInput = {
    atMs: Date.UTC(2024, 0, 1),
    intervalMs: 2000,
    uptimeMs: 60_000,
    tally,
    upstreams: [],
    queuedBytes: 0,
    maxQueuedBytes: 100,
    draining: true,
    topServices: 5,
  };
  assert.is(
    formatBasicSummary(input),
    '2024-01-01T00:00:00.000Z otlp-fanout gateway | 2.0s: 1 req (0.5/s), 12 items (6/s) [traces 1/12] | draining\n',
  );
});

test.run();
