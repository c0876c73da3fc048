import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FRAME_HEADER_BYTES } from '../../../src/export/durable/format.js';
import { TailCache } from '../../../src/export/durable/tail-cache.js';
import { drain, logFixture, range, record } from './support.js';

const test = suite('export/durable/tail cache');
const fx = logFixture(test);
const H = FRAME_HEADER_BYTES;

test('runs: contiguous records from a cached position, bounded by bytes, count and the segment end; misses', () => {
  const c = new TailCache(1000);
  const p = (n: number) => new Uint8Array(n);
  // Segment 1: frames at 100, 100+H+10, …; segment 2 starts after a gap (a header) at 500.
  c.add(100, 0, p(10));
  c.add(100 + H + 10, 1, p(20));
  c.add(100 + 2 * H + 30, 2, p(30));
  c.add(500, 3, p(40));
  const all = c.run(100, 0, 10_000, 1e9, 100)!;
  assert.equal([all.records.length, all.bytes, all.end, all.seq, all.firstSeq], [3, 60, 100 + 3 * H + 60, 3, 0], 'stops at the segment gap');
  assert.equal(c.run(100, 0, 10_000, 25, 100)!.records.length, 1, 'maxBytes (at least one record)');
  assert.equal(c.run(100, 0, 10_000, 1, 100)!.records.length, 1, 'one record even over maxBytes');
  assert.equal(c.run(100, 0, 10_000, 1e9, 2)!.records.length, 2, 'maxRecords');
  assert.equal(c.run(100, 0, 100 + 2 * H + 30, 1e9, 100)!.records.length, 2, 'not past the segment end');
  assert.is(c.run(101, 0, 10_000, 1e9, 100), undefined, 'not a frame');
  assert.is(c.run(100, 5, 10_000, 1e9, 100), undefined, 'another sequence number');
  assert.equal(c.run(500, 3, 10_000, 1e9, 100)!.records.length, 1);
  // Over the byte bound the oldest go.
  c.add(600, 4, p(950));
  assert.is(c.run(100, 0, 10_000, 1e9, 100), undefined, 'evicted');
  assert.equal(c.run(600, 4, 10_000, 1e9, 100)!.bytes, 950);
  c.clear();
  assert.is(c.run(600, 4, 10_000, 1e9, 100), undefined);
});

test('a reader that keeps up reads from memory, one that fell behind from the file: the same records either way', async () => {
  const log = await fx.open({ maxBytes: 16 * 1024 * 1024, segmentBytes: 256 * 1024 });
  const live = await log.reader('live');
  const behind = await log.reader('behind');
  const got: number[] = [];
  // 5 MiB in 10 turns of 500 records of 1 KiB, over 20 segments: the live reader drains after each turn
  // (from the cache), the other reads everything at the end: its first ~1 MiB no longer cached, from the
  // files, the rest from the 4 MiB cache.
  for (let t = 0; t < 10; t++) {
    await log.append(range(t * 500, t * 500 + 500).map((i) => record(i, 1024)));
    got.push(...(await drain(live)));
  }
  assert.equal(got, range(0, 5000));
  assert.equal(await drain(behind), range(0, 5000));
});

test.run();
