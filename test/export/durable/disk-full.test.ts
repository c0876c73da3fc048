import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openDurableLog, type DurableLog } from '../../../src/export/durable/log.js';
import type { DurableLogError } from '../../../src/export/durable/errors.js';
import { drain, range, record, tempDir } from './support.js';

// A real full file system: a 1 MiB tmpfs mounted for the test (needs root and a kernel that allows
// it; otherwise the suite says so and skips: there is no fake file system standing in for it).
const test = suite('export/durable/disk full');

function mountTmpfs(path: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const unmount = (path: string): void => void execFileSync('umount', [path], { stdio: 'ignore' });

/** Appends 10 KiB records (4 per append) until one is refused; the acknowledged indexes and the refusal. */
async function fill(log: DurableLog, from: number): Promise<{ acked: number[]; error: DurableLogError }> {
  const acked: number[] = [];
  for (let i = from; ; i += 4) {
    try {
      await log.append(range(i, i + 4).map((k) => record(k, 10_000)));
      acked.push(...range(i, i + 4));
    } catch (e) {
      return { acked, error: e as DurableLogError };
    }
  }
}

test('disk full: append rejects (no_space) with nothing acknowledged, the log stays readable, appends succeed again once space returns', async () => {
  const dir = tempDir('dlog-full-');
  if (!mountTmpfs(dir.path, '1m')) {
    console.log('  (skipped: cannot mount a tmpfs here)');
    dir.remove();
    return;
  }
  const options = { directory: join(dir.path, 'log'), maxBytes: 64 * 1024 * 1024, segmentBytes: 128 * 1024, fsync: 'always' as const };
  let log: DurableLog | undefined;
  try {
    log = await openDurableLog(options);
    const reader = await log.reader('a');
    const first = await fill(log, 0);
    assert.is(first.error.code, 'no_space');
    assert.is(first.error.retryable, true);
    assert.ok(first.acked.length > 40, `${first.acked.length} records fit in 1 MiB`);
    assert.ok(log.stats().appendFailures >= 1);
    // Refused again while full, without harm.
    const again = await fill(log, 10_000);
    assert.equal(again.acked, []);
    assert.is(again.error.code, 'no_space');
    // What was acknowledged is there, exactly (the refused writes were cut back).
    const got = await drain(reader);
    assert.equal(got, first.acked);
    // Space returns as the reader's segments are deleted: appends succeed again.
    await log.append(record(20_000, 10_000));
    assert.equal(await drain(reader), [20_000]);
    // And when the file system grows.
    const before = await fill(log, 30_000);
    assert.is(before.error.code, 'no_space');
    execFileSync('mount', ['-o', 'remount,size=4m', dir.path], { stdio: 'ignore' });
    await log.append(record(40_000, 10_000));
    await log.close();
    log = await openDurableLog(options);
    const s = log.stats();
    assert.is(s.corruptRecords, 0);
    assert.is(s.corruptSegments, 0);
    assert.equal(await drain(await log.reader('a')), [...before.acked, 40_000]);
  } finally {
    await log?.close();
    unmount(dir.path);
    dir.remove();
  }
});

test.run();
