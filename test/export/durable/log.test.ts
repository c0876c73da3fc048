import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDurableLog, type DurableLog } from '../../../src/export/durable/log.js';
import { DurableLogError } from '../../../src/export/durable/errors.js';
import { drain, indexOf, logFixture, range, record, rejection, tempDir } from './support.js';

const test = suite('export/durable/log');

const logs = logFixture(test);
const dir = {
  get path(): string {
    return logs.dir;
  },
};
const openLog = logs.open;
async function reopen(log: DurableLog, options: Partial<Parameters<typeof openDurableLog>[0]> = {}): Promise<DurableLog> {
  await logs.close(log);
  return openLog(options);
}
const append = (log: DurableLog, from: number, to: number, size = 100): Promise<number[]> =>
  Promise.all(range(from, to).map((i) => log.append(record(i, size))));
const segmentFiles = (): string[] =>
  readdirSync(dir.path)
    .filter((f) => f.endsWith('.seg'))
    .sort();

test('append then read returns the records, in order, intact; positions increase', async () => {
  const log = await openLog();
  const reader = await log.reader('a');
  const positions = await append(log, 0, 10);
  const many = await log.append([record(10), record(11, 5000), record(12)]);
  assert.ok(
    positions.every((p, i) => i === 0 || p > positions[i - 1]!),
    'positions increase',
  );
  assert.ok(many > positions.at(-1)!);
  const batch = (await reader.read())!;
  assert.equal(batch.records.map(indexOf), range(0, 13));
  assert.is(batch.firstSeq, 0);
  assert.is(batch.bytes, 12 * 100 + 5000);
  assert.is(batch.end, log.end);
  assert.equal(reader.backlog(), { bytes: log.end - reader.position, records: 13 });
  await reader.ack(batch);
  assert.equal(reader.backlog(), { bytes: 0, records: 0 });
  assert.is(await reader.read(), undefined, 'nothing more');
});

test('group commit: appends of one turn are written with one write', async () => {
  const log = await openLog({ segmentBytes: 1024 * 1024 });
  await append(log, 0, 64);
  assert.is(log.stats().writes, 1);
  await append(log, 64, 80);
  assert.is(log.stats().writes, 2);
  // Appends made while a write is in flight join the next write.
  const first = append(log, 80, 81);
  await new Promise<void>((r) => setImmediate(r));
  await Promise.all([first, append(log, 81, 100)]);
  assert.ok(log.stats().writes <= 4, `${log.stats().writes} writes`);
  // More buffers than one writev takes (IOV_MAX = 1024): still one write call of ours, all there.
  const before = log.stats().writes;
  await append(log, 100, 1700, 10);
  assert.is(log.stats().writes, before + 1);
  assert.equal(await drain(await log.reader('a')), range(0, 1700));
});

test('read honours maxRecords and maxBytes, but always returns a record however large', async () => {
  const log = await openLog();
  const reader = await log.reader('a');
  await append(log, 0, 10, 1000);
  await log.append(record(10, 20_000));
  await append(log, 11, 13, 1000);
  const sizes: number[] = [];
  for (;;) {
    const b = await reader.read(2500, 3);
    if (b === undefined) break;
    sizes.push(b.records.length);
    await reader.ack(b);
  }
  assert.equal(sizes, [2, 2, 2, 2, 2, 1, 2]);
});

test('segments roll at segmentBytes and are deleted once every reader passed them', async () => {
  const log = await openLog();
  const fast = await log.reader('fast');
  const slow = await log.reader('slow');
  await append(log, 0, 300, 1000); // ~300 KiB: 5 segments of 64 KiB
  const segments = log.stats().segments;
  assert.ok(segments >= 5, `${segments} segments`);
  assert.equal(await drain(fast), range(0, 300));
  assert.is(log.stats().segments, segments, 'the slow reader holds them');
  let got: number[] = [];
  const b = (await slow.read(70_000))!;
  got = b.records.map(indexOf);
  await slow.ack(b);
  assert.is(log.stats().segments, segments - 1, 'the first segment went');
  assert.is(segmentFiles().length, segments - 1);
  got = got.concat(await drain(slow));
  assert.equal(got, range(0, 300));
  assert.is(log.stats().segments, 1, 'the active segment stays');
  assert.is(log.stats().bytesOnDisk, log.end - (log.stats().end - log.stats().bytesOnDisk));
});

test('many readers at different speeds each get everything once', async () => {
  const log = await openLog({ maxBytes: 64 * 1024 * 1024 });
  const names = ['r0', 'r1', 'r2', 'r3'];
  const readers = await Promise.all(names.map((n) => log.reader(n)));
  const got: number[][] = names.map(() => []);
  let appended = 0;
  const producer = (async () => {
    for (let round = 0; round < 40; round++) {
      await append(log, appended, appended + 25, 500 + round * 10);
      appended += 25;
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const consumers = readers.map(async (reader, k) => {
    for (;;) {
      const b = await reader.read(4096 * (k + 1), 7 * (k + 1));
      if (b === undefined) {
        if (got[k]!.length === 1000) return;
        await Promise.race([reader.whenReadable(), new Promise((r) => setTimeout(r, 20))]);
        continue;
      }
      got[k]!.push(...b.records.map(indexOf));
      if (k > 0) await new Promise((r) => setTimeout(r, k));
      await reader.ack(b);
    }
  });
  await Promise.all([producer, ...consumers]);
  for (const g of got) assert.equal(g, range(0, 1000));
  assert.is(log.stats().segments, 1);
});

test('out-of-order acknowledgements: the cursor moves over the contiguous prefix only', async () => {
  const log = await openLog();
  const reader = await log.reader('a');
  await append(log, 0, 9);
  const [b1, b2, b3] = [(await reader.read(1e6, 3))!, (await reader.read(1e6, 3))!, (await reader.read(1e6, 3))!];
  assert.is(reader.inFlight, 3);
  const start = reader.position;
  let settled = 0;
  const acks = [reader.ack(b3), reader.ack(b2)].map((p) => p.then(() => settled++));
  await new Promise((r) => setTimeout(r, 10));
  assert.is(reader.position, start, 'b1 still in flight');
  assert.is(settled, 0, 'an ack resolves once the persisted cursor passed its batch');
  await reader.ack(b1);
  await Promise.all(acks);
  assert.is(reader.position, b3.end);
  assert.is(reader.inFlight, 0);
  await reader.ack(b1); // twice: ignored
  assert.is(reader.position, b3.end);
});

test('nack makes a batch readable again, before new records', async () => {
  const log = await openLog();
  const reader = await log.reader('a');
  await append(log, 0, 6);
  const b1 = (await reader.read(1e6, 3))!;
  const b2 = (await reader.read(1e6, 3))!;
  reader.nack(b1);
  await reader.whenReadable();
  const again = (await reader.read(1e6, 1))!;
  assert.equal(again.records.map(indexOf), [0, 1, 2], 'the same batch, whatever the new limits');
  assert.is(again.start, b1.start);
  const acked2 = reader.ack(b2);
  await reader.ack(b1); // the old object is stale now
  assert.is(reader.position, b1.start);
  await reader.ack(again);
  await acked2;
  assert.is(reader.position, b2.end);
  assert.is(await reader.read(), undefined);
});

test('whenReadable resolves on append', async () => {
  const log = await openLog();
  const reader = await log.reader('a');
  let woke = false;
  const waiting = reader.whenReadable().then(() => (woke = true));
  await new Promise((r) => setTimeout(r, 5));
  assert.is(woke, false);
  await log.append(record(0));
  await waiting;
  assert.is(woke, true);
});

test("reopen replays from each reader's cursor; in-flight batches come back", async () => {
  let log = await openLog();
  const a = await log.reader('a');
  const b = await log.reader('b');
  await append(log, 0, 200, 1000);
  const firstHalf: number[] = [];
  while (firstHalf.length < 100) {
    const batch = (await a.read(1e6, 100 - firstHalf.length))!;
    firstHalf.push(...batch.records.map(indexOf));
    await a.ack(batch);
  }
  const inFlight = (await a.read(1e6, 10))!; // never acknowledged
  assert.equal(inFlight.records.map(indexOf), range(100, 110));
  const bBatch = (await b.read(1e6, 5))!;
  await b.ack(bBatch);
  log = await reopen(log);
  assert.equal(log.readerNames().sort(), ['a', 'b']);
  assert.equal(await drain(await log.reader('a')), range(100, 200));
  assert.equal(await drain(await log.reader('b')), range(5, 200));
  await append(log, 200, 210);
  assert.equal(await drain(await log.reader('a')), range(200, 210));
});

test('a reader created with from: "end" sees only new records; "oldest" (default) sees the backlog', async () => {
  const log = await openLog();
  await append(log, 0, 5);
  const late = await log.reader('late', { from: 'end' });
  const all = await log.reader('all');
  await append(log, 5, 8);
  assert.equal(await drain(late), [5, 6, 7]);
  assert.equal(await drain(all), range(0, 8));
});

test('removeReader deletes its cursor and frees what only it held', async () => {
  let log = await openLog();
  const a = await log.reader('a');
  await log.reader('gone/with:odd name');
  await append(log, 0, 300, 1000);
  await drain(a);
  assert.ok(log.stats().segments > 1);
  assert.ok(readdirSync(dir.path).includes(`${encodeURIComponent('gone/with:odd name')}.cursor`));
  assert.is(await log.removeReader('gone/with:odd name'), true);
  assert.is(await log.removeReader('never'), false);
  assert.is(log.stats().segments, 1);
  log = await reopen(log);
  assert.equal(log.readerNames(), ['a']);
});

test('full: append refused before writing, naming the reader that holds the oldest segment; dropOldest frees it', async () => {
  const log = await openLog({ maxBytes: 256 * 1024, segmentBytes: 32 * 1024 });
  const healthy = await log.reader('healthy');
  const failing = await log.reader('failing');
  let i = 0;
  let refusal: unknown;
  for (;;) {
    try {
      await log.append(record(i, 1000));
      i++;
      await drain(healthy);
    } catch (e) {
      refusal = e;
      break;
    }
  }
  assert.instance(refusal, DurableLogError);
  const err = refusal as DurableLogError;
  assert.is(err.code, 'full');
  assert.is(err.retryable, true);
  assert.equal(
    err.holders.map((h) => h.name),
    ['failing'],
  );
  assert.is(err.holders[0]!.backlogRecords, i);
  assert.match(err.message, /held by failing/);
  const before = log.stats();
  assert.ok(before.bytesOnDisk <= 256 * 1024, `${before.bytesOnDisk} bytes on disk`);
  assert.is(before.refusedFull, 1);
  assert.is(log.hasRoom(1000), false);
  assert.is(before.end, log.end, 'nothing was written');
  // The failing reader drops its oldest segment: space for the healthy one again.
  const inFlight = (await failing.read(1e6, 3))!;
  const dropped = await failing.dropOldest(1);
  assert.ok(dropped.records >= 3 && dropped.bytes > 0);
  assert.is(log.stats().segments, before.segments - 1);
  assert.ok(log.hasRoom(1000));
  await log.append(record(i, 1000));
  await failing.ack(inFlight); // dropped meanwhile: ignored
  const rest = await drain(failing);
  assert.is(rest[0], dropped.records, 'it continues after what it dropped');
  assert.is(rest.length + dropped.records, i + 1);
  assert.equal(log.stats().readers.find((r) => r.name === 'failing')!.droppedRecords, dropped.records);
});

test('skipTo the end drops the backlog and counts it', async () => {
  const log = await openLog();
  const reader = await log.reader('a');
  await append(log, 0, 50, 1000);
  const d = await reader.skipTo(log.end);
  assert.is(d.records, 50);
  assert.equal(reader.backlog(), { bytes: 0, records: 0 });
  await append(log, 50, 52);
  assert.equal(await drain(reader), [50, 51]);
});

test('rejections: too_large, closed; a second open of the directory is locked', async () => {
  const log = await openLog({ maxRecordBytes: 1000 });
  const tooLarge = (await rejection(log.append(record(0, 1001)))) as DurableLogError;
  assert.is(tooLarge.code, 'too_large');
  assert.is(tooLarge.retryable, false);
  assert.is(((await rejection(openDurableLog({ directory: dir.path }))) as DurableLogError).code, 'locked');
  await log.close();
  assert.is(((await rejection(log.append(record(0)))) as DurableLogError).code, 'closed');
});

test('the lock file of a dead process is taken over; a live one refuses', async () => {
  mkdirSync(dir.path, { recursive: true });
  writeFileSync(join(dir.path, 'LOCK'), '999999999\n');
  await logs.close(await openLog());
  writeFileSync(join(dir.path, 'LOCK'), `${process.ppid}\n`);
  const locked = (await rejection(openDurableLog({ directory: dir.path }))) as DurableLogError;
  assert.is(locked.code, 'locked');
  assert.match(locked.message, /LOCK/);
});

test('options are checked once, naming the field', async () => {
  assert.match(String(await rejection(openDurableLog({ directory: '' }))), /storage.directory/);
  assert.match(String(await rejection(openDurableLog({ directory: dir.path, maxBytes: 100 }))), /storage.maxBytes: 100 is not allowed/);
  assert.match(String(await rejection(openDurableLog({ directory: dir.path, maxBytes: 1 << 20, segmentBytes: 1 << 20 }))), /storage.segmentBytes/);
  assert.match(String(await rejection(openDurableLog({ directory: dir.path, fsync: 'sometimes' as never }))), /storage.fsync/);
});

test('fsync policies: always syncs every write; interval in the background; never only at close', async () => {
  const always = await openLog({ fsync: 'always' });
  await append(always, 0, 10);
  await append(always, 10, 20);
  assert.ok(always.stats().fsyncs >= 2);
  await logs.close(always);
  // Each policy in a directory of its own (the fixture's is taken by the first log's files).
  const d2 = tempDir();
  const d3 = tempDir();
  try {
    const interval = await openLog({ fsync: 'interval', fsyncIntervalMillis: 10, directory: d2.path });
    await append(interval, 0, 10);
    const before = interval.stats().fsyncs;
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(interval.stats().fsyncs > before, 'the timer synced');
    await logs.close(interval);
    const never = await openLog({ fsync: 'never', directory: d3.path });
    await append(never, 0, 10);
    await new Promise((r) => setTimeout(r, 20));
    assert.is(never.stats().fsyncs, 0);
    await logs.close(never);
  } finally {
    d2.remove();
    d3.remove();
  }
});

test.run();
