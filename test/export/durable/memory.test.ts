import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openDurableLog } from '../../../src/export/durable/log.js';
import { settledHeap } from '../../support/gc.js';
import { tempDir } from './support.js';

// Memory holds cursors and a small index, not the backlog: RSS stays flat while the backlog grows to
// 256 MiB and while it is read back (`npm run bench:durable` does the 1 GiB case).
const test = suite('export/durable/memory');

const MiB = 1024 * 1024;
const rss = (): number => {
  settledHeap();
  return process.memoryUsage().rss;
};

test('RSS stays flat while a 256 MiB backlog is written and read back', async () => {
  const dir = tempDir('dlog-mem-');
  const log = await openDurableLog({ directory: dir.path, maxBytes: 512 * MiB, fsync: 'never' });
  try {
    const reader = await log.reader('behind');
    const body = Buffer.alloc(10 * 1024, 7);
    // 1,024 buffers (10 MiB) reused in turn, so the test's own allocations do not blur what the log
    // uses. The log keeps its newest 4 MiB of records (its tail cache, log.ts TAIL_CACHE_BYTES): a
    // buffer is changed only once 10 MiB were written after it, long after the cache let it go.
    const bodies = Array.from({ length: 1024 }, () => Buffer.from(body));
    let n = 0;
    const appendMiB = async (mib: number): Promise<void> => {
      const target = log.end + mib * MiB;
      while (log.end < target) {
        const turn = [];
        for (let k = 0; k < 64; k++) {
          const b = bodies[n % bodies.length]!;
          b.writeUInt32LE(n++, 0);
          turn.push(log.append(b));
        }
        await Promise.all(turn);
      }
    };
    await appendMiB(32);
    const at32 = rss();
    await appendMiB(224);
    const at256 = rss();
    assert.ok(reader.backlog().bytes >= 256 * MiB);
    let read = 0;
    let batches = 0;
    let peak = 0;
    for (;;) {
      const b = await reader.read(MiB, 256);
      if (b === undefined) break;
      if (b.records[0]!.length !== body.length || Buffer.from(b.records.at(-1)!).readUInt32LE(0) !== read + b.records.length - 1) {
        assert.unreachable(`record ${read} out of place`);
      }
      read += b.records.length;
      await reader.ack(b);
      if (++batches % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const after = rss();
    console.log(
      `  RSS: ${(at32 / MiB).toFixed(0)} MiB at a 32 MiB backlog, ${(at256 / MiB).toFixed(0)} MiB at 256 MiB, ` +
        `peak ${(peak / MiB).toFixed(0)} MiB reading it back, ${(after / MiB).toFixed(0)} MiB after; ${log.stats().segments} segment(s) left`,
    );
    assert.is(read, n);
    assert.ok(at256 - at32 < 32 * MiB, `RSS grew ${((at256 - at32) / MiB).toFixed(1)} MiB while the backlog grew 224 MiB`);
    // Read buffers are pooled per reader (reader.ts); the bound catches what matters — a backlog held in
    // memory would be ≥ 256 MiB here — with room for the collector's timing.
    assert.ok(peak - at32 < 32 * MiB, `RSS peaked ${((peak - at32) / MiB).toFixed(1)} MiB above while reading back`);
    assert.is(log.stats().segments, 1);
  } finally {
    await log.close();
    dir.remove();
  }
});

test.run();
