import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DurableLog } from '../../../src/export/durable/log.js';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../../../src/export/durable/format.js';
import { decodeCursor } from '../../../src/export/durable/cursor-file.js';
import { drain, logFixture, range, record } from './support.js';

// Damage done to the files of a closed log, then reopened: it never throws, skips and counts.
const test = suite('export/durable/recovery');

const logs = logFixture(test);
const dir = {
  get path(): string {
    return logs.dir;
  },
};
const openLog = (): Promise<DurableLog> => logs.open();
const close = logs.close;
const SIZE = 1000;
const FRAME = FRAME_HEADER_BYTES + SIZE;
/** A closed log holding records 0..n-1 of SIZE bytes, with reader 'a' at the start; their positions. */
async function written(n: number): Promise<number[]> {
  const log = await openLog();
  await log.reader('a');
  const positions = await Promise.all(range(0, n).map((i) => log.append(record(i, SIZE))));
  await close(log);
  return positions;
}
const segments = (): string[] =>
  readdirSync(dir.path)
    .filter((f) => f.endsWith('.seg'))
    .sort();
/** File and offset of global position `pos`. */
function locate(pos: number): { file: string; offset: number } {
  const seg = segments()
    .filter((f) => Number(f.slice(0, 16)) <= pos)
    .at(-1)!;
  return { file: join(dir.path, seg), offset: pos - Number(seg.slice(0, 16)) };
}
function damage(pos: number, bytes: number[] | number): void {
  const { file, offset } = locate(pos);
  const b = readFileSync(file);
  const list = typeof bytes === 'number' ? Array.from({ length: bytes }, () => 0xa5) : bytes;
  list.forEach((v, i) => (b[offset + i] = b[offset + i]! ^ (v || 0xff)));
  writeFileSync(file, b);
}

test('a torn last record is truncated and counted; appends continue after it', async () => {
  const positions = await written(20);
  const { file } = locate(positions[19]!);
  truncateSync(file, statSync(file).size - 500);
  let log = await openLog();
  const s = log.stats();
  assert.is(s.tornTails, 1);
  assert.is(s.tornBytes, FRAME - 500);
  assert.is(s.corruptRecords, 0);
  assert.is(log.end, positions[19]);
  await log.append([record(19), record(20)]);
  assert.equal(await drain(await log.reader('a')), range(0, 21));
  await close(log);
  log = await openLog();
  assert.is(log.stats().tornTails, 0, 'nothing torn the second time');
});

test('a damaged payload loses that record only, counted once whoever reads it', async () => {
  const positions = await written(150); // 3 segments
  damage(positions[10]! + FRAME_HEADER_BYTES + 300, [0x01]);
  const log = await openLog();
  const b = await log.reader('b');
  assert.equal(
    await drain(await log.reader('a')),
    range(0, 150).filter((i) => i !== 10),
  );
  assert.equal(
    await drain(b),
    range(0, 150).filter((i) => i !== 10),
  );
  const s = log.stats();
  assert.is(s.corruptRecords, 1);
  assert.is(s.corruptBytes, FRAME);
  assert.is(s.tornTails, 0);
});

test('a damaged frame header: the reader finds the next frame; the lost record counted from the sequence gap', async () => {
  const positions = await written(150);
  damage(positions[20]! + 4, [0x00, 0x10]); // the length field
  damage(positions[40]!, 3000); // three frames and a bit, headers included
  const log = await openLog();
  const got = await drain(await log.reader('a'));
  const lost = range(0, 150).filter((i) => !got.includes(i));
  assert.equal(lost, [20, 40, 41, 42]);
  assert.equal(
    got,
    range(0, 150).filter((i) => !lost.includes(i)),
    'in order, each once',
  );
  assert.is(log.stats().corruptRecords, 4);
  assert.ok(log.stats().corruptBytes >= FRAME + 3000);
});

test('damage in the middle of the last segment is not a torn tail: later records stay', async () => {
  const positions = await written(30); // one segment
  damage(positions[5]! + 100, 50);
  const log = await openLog();
  assert.is(log.stats().tornTails, 0);
  assert.is(log.end, positions[29]! + FRAME);
  assert.equal(
    await drain(await log.reader('a')),
    range(0, 30).filter((i) => i !== 5),
  );
  await log.append(record(30));
  assert.equal(await drain(await log.reader('a')), [30]);
});

test('a damaged segment header: the segment is set aside, its records counted lost, the rest read', async () => {
  const positions = await written(150);
  const first = segments()[0]!;
  damage(Number(first.slice(0, 16)), [0xff]); // magic
  const log = await openLog();
  const s = log.stats();
  assert.is(s.corruptSegments, 1);
  assert.ok(readdirSync(dir.path).includes(`${first}.corrupt`));
  const got = await drain(await log.reader('a'));
  assert.ok(got.length > 0 && got.length < 150);
  assert.equal(got, range(150 - got.length, 150));
  assert.is(log.stats().corruptRecords, 150 - got.length, "counted from the next segment's first sequence number");
  assert.ok(positions.length === 150);
});

test('the only segment damaged: a fresh one starts after it, readers start over there', async () => {
  await written(10);
  const only = segments()[0]!;
  damage(Number(only.slice(0, 16)) + 8, [0x40]); // base position field
  const log = await openLog();
  assert.is(log.stats().corruptSegments, 1);
  await log.append(record(100));
  assert.equal(await drain(await log.reader('a')), [100]);
  assert.equal(await drain(await log.reader('new')), [100]);
});

test('a last segment cut inside its header (created, then a crash) is removed as a torn tail', async () => {
  await written(10);
  const base = Number(segments()[0]!.slice(0, 16)) + SEGMENT_HEADER_BYTES + 10 * FRAME;
  writeFileSync(join(dir.path, `${String(base).padStart(16, '0')}.seg`), Buffer.from('OFDL\x01\x00'));
  const log = await openLog();
  assert.is(log.stats().tornTails, 1);
  assert.is(log.stats().corruptSegments, 0);
  assert.equal(await drain(await log.reader('a')), range(0, 10));
});

test('a missing cursor file: the reader starts from the oldest data (repeats, never loss)', async () => {
  let log = await openLog();
  const a = await log.reader('a');
  await Promise.all(range(0, 10).map((i) => log.append(record(i))));
  assert.equal(await drain(a, 1e6, 5).then((g) => g.slice(0, 5)), range(0, 5));
  await close(log);
  const b = await (async () => {
    log = await openLog();
    return log.reader('b');
  })();
  await drain(b);
  await close(log);
  // a's cursor is at the end; b's file goes missing: b repeats from the oldest retained record.
  const files = readdirSync(dir.path);
  assert.ok(files.includes('b.cursor'));
  writeFileSync(join(dir.path, 'b.cursor'), Buffer.alloc(0));
  log = await openLog();
  assert.is(log.stats().cursorsLost, 1, 'an empty cursor file is a lost cursor');
  assert.equal(await drain(await log.reader('b')), range(0, 10));
  await close(log);
  const { unlinkSync } = await import('node:fs');
  unlinkSync(join(dir.path, 'b.cursor'));
  log = await openLog();
  assert.equal(log.readerNames(), ['a']);
  assert.equal(await drain(await log.reader('b')), range(0, 10), 'no file: from the oldest by default');
});

test('a garbage cursor file is counted and the reader starts from the oldest data', async () => {
  await written(10);
  writeFileSync(join(dir.path, 'a.cursor'), Buffer.from('not a cursor at all, not a cursor at all, not a cursor at all!!'));
  const log = await openLog();
  assert.is(log.stats().cursorsLost, 1);
  assert.equal(await drain(await log.reader('a')), range(0, 10));
});

test('cursor slots: the later valid generation wins; a torn slot falls back to the other', () => {
  const slot = (gen: number, position: number): Buffer => {
    const b = Buffer.alloc(32);
    b.writeUInt32LE(0x4344464f, 0);
    b.writeUInt32LE(gen, 4);
    b.writeDoubleLE(position, 8);
    b.writeDoubleLE(position / 10, 16);
    return b;
  };
  // CRCs through the real encoder: write states with a CursorWriter-like layout, then checksum.
  const withCrc = async (b: Buffer): Promise<Buffer> => {
    const { crc32c } = await import('../../../src/export/durable/crc32c.js');
    b.writeUInt32LE(crc32c(b, 0, 28), 28);
    return b;
  };
  return (async () => {
    const a = await withCrc(slot(7, 700));
    const b = await withCrc(slot(8, 800));
    assert.equal(decodeCursor(Buffer.concat([a, b]))?.state.position, 800);
    assert.equal(decodeCursor(Buffer.concat([b, a]))?.state.position, 800);
    const torn = Buffer.from(b);
    torn[12] = torn[12]! ^ 1;
    assert.equal(decodeCursor(Buffer.concat([a, torn]))?.state.position, 700);
    // Generations wrap: 0 comes after 0xffffffff.
    const wrapped = await withCrc(slot(0, 900));
    const last = await withCrc(slot(0xffffffff, 100));
    assert.equal(decodeCursor(Buffer.concat([wrapped, last]))?.state.position, 900);
    assert.is(decodeCursor(Buffer.alloc(64)), undefined);
    assert.is(decodeCursor(Buffer.alloc(3)), undefined);
  })();
});

test("files that are not the log's are left alone and counted; stale temp files removed", async () => {
  await written(5);
  writeFileSync(join(dir.path, 'README'), 'hello');
  writeFileSync(join(dir.path, '12.seg'), 'not a segment name');
  writeFileSync(join(dir.path, 'x.cursor.bak'), 'x');
  writeFileSync(join(dir.path, 'old.tmp'), 'x');
  mkdirSync(join(dir.path, 'sub'));
  mkdirSync(join(dir.path, '0000000000999999.seg')); // a directory with a segment's name
  const log = await openLog();
  const s = log.stats();
  assert.is(s.ignoredFiles, 4);
  assert.is(s.corruptSegments, 1, 'the directory named like a segment is set aside');
  assert.ok(!readdirSync(dir.path).includes('old.tmp'));
  assert.ok(readdirSync(dir.path).includes('README'));
  assert.equal(await drain(await log.reader('a')), range(0, 5));
});

test.run();
