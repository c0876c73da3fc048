/**
 * The durable log (`src/export/durable/`): checksum choice, append cost per fsync policy and group
 * size, cursor persistence, read-back, recovery of a 1 GiB log and RSS while reading it back.
 *
 * `npm run bench:durable` runs its three parts (`DLOG_BENCH_PART=micro|append|recovery` runs one, and
 * then takes the harness flags `--rounds N`, `--filter TEXT`); `DLOG_BENCH_MS` sets how long each
 * append/cursor child runs, default 1500. Logs live under os.tmpdir(); the 1 GiB log is
 * written once (`otlp-fanout-bench-durable-1g`, reused by later runs, ~1 GiB of disk) and read by
 * fresh readers while a reader that never moves keeps it whole. Page cache warm (a restart on the
 * same machine); caches are never dropped (the machine is shared).
 */
import { createHash, hash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { runBench, type BenchCase } from './lib/harness.js';
import { crc32c } from '../src/export/durable/crc32c.js';
import { CursorWriter } from '../src/export/durable/cursor-file.js';
import { openDurableLog } from '../src/export/durable/log.js';
import type { FsyncPolicy } from '../src/export/durable/options.js';

const MiB = 1024 * 1024;
const RECORD = 10 * 1024;
const RUN_MS = Number(process.env['DLOG_BENCH_MS'] ?? 1500);
const record = Buffer.alloc(RECORD);
for (let i = 0; i < RECORD; i++) record[i] = (i * 2654435761) >>> 24;

const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const tempLog = (): { path: string; remove(): void } => {
  const path = mkdtempSync(join(tmpdir(), 'dlog-bench-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
};

/** Appends `group` records per turn for RUN_MS after a short warm-up; CPU or wall µs per record. */
async function appendCost(fsync: FsyncPolicy, group: number, clock: 'cpu' | 'wall'): Promise<number> {
  const dir = tempLog();
  const log = await openDurableLog({ directory: dir.path, maxBytes: 8 * 1024 * MiB, segmentBytes: 16 * MiB, fsync });
  try {
    // A reader that keeps up, as a healthy upstream would: segments are deleted behind it.
    const reader = await log.reader('r', { from: 'end' });
    const turn = async (): Promise<void> => {
      const appends: Promise<number>[] = [];
      for (let k = 0; k < group; k++) appends.push(log.append(record));
      await Promise.all(appends);
      if (reader.backlog().bytes > 32 * MiB) await reader.skipTo(log.end);
    };
    const warmEnd = Date.now() + 300;
    while (Date.now() < warmEnd) await turn();
    globalThis.gc?.();
    let records = 0;
    const wall0 = performance.now();
    const cpu0 = cpuMicros();
    while (performance.now() - wall0 < RUN_MS) {
      await turn();
      records += group;
    }
    const micros = clock === 'cpu' ? cpuMicros() - cpu0 : (performance.now() - wall0) * 1000;
    return micros / records;
  } finally {
    await log.close();
    dir.remove();
  }
}

/**
 * CPU µs per cursor write: the log's A/B slots (one synchronous pwrite), the same through the thread
 * pool, and write-temp-then-rename.
 */
async function cursorCost(kind: 'slots' | 'slots-async' | 'rename'): Promise<number> {
  const dir = tempLog();
  try {
    const path = join(dir.path, 'r.cursor');
    let n = 0;
    let write: () => Promise<void> | void;
    let done = async (): Promise<void> => undefined;
    if (kind === 'slots') {
      const w = await CursorWriter.open(path, 0);
      write = () => w.write({ position: ++n * 100, seq: n });
      done = () => w.close();
    } else if (kind === 'slots-async') {
      const h = await open(path, 'w+');
      const b = Buffer.alloc(32);
      write = async () => {
        b.writeDoubleLE(++n * 100, 8);
        await h.write(b, 0, 32, (n & 1) * 32);
      };
      done = () => h.close();
    } else {
      const b = Buffer.alloc(32);
      write = () => {
        b.writeDoubleLE(++n * 100, 8);
        const tmp = `${path}.tmp`;
        const fd = openSync(tmp, 'w');
        writeSync(fd, b, 0, 32, 0);
        closeSync(fd);
        renameSync(tmp, path);
      };
    }
    const warmEnd = Date.now() + 200;
    while (Date.now() < warmEnd) await write();
    const cpu0 = cpuMicros();
    const wall0 = performance.now();
    let writes = 0;
    while (performance.now() - wall0 < RUN_MS) {
      await write();
      writes++;
    }
    const cpu = (cpuMicros() - cpu0) / writes;
    await done();
    return cpu;
  } finally {
    dir.remove();
  }
}

const BIG = join(tmpdir(), 'otlp-fanout-bench-durable-1g');
const BIG_OPTIONS = { directory: BIG, maxBytes: 2048 * MiB, segmentBytes: 16 * MiB, fsync: 'never' as const };

/** The 1 GiB log, written once: 10 KiB records, a reader `keeper` that never moves. */
async function bigLog(): Promise<void> {
  if (existsSync(`${BIG}.ready`)) return;
  rmSync(BIG, { recursive: true, force: true });
  const log = await openDurableLog(BIG_OPTIONS);
  await log.reader('keeper');
  while (log.end < 1024 * MiB) {
    const turn: Promise<number>[] = [];
    for (let k = 0; k < 64; k++) turn.push(log.append(record));
    await Promise.all(turn);
  }
  await log.close();
  writeFileSync(`${BIG}.ready`, '');
}

/** Reads the whole 1 GiB log through a fresh reader (removed after); what `measure` says. */
async function readBack(measure: 'cpu' | 'wall' | 'rss'): Promise<number> {
  await bigLog();
  const log = await openDurableLog(BIG_OPTIONS);
  try {
    const name = `bench-${process.pid}`;
    const reader = await log.reader(name);
    globalThis.gc?.();
    let peak = process.memoryUsage().rss;
    let records = 0;
    let batches = 0;
    const cpu0 = cpuMicros();
    const wall0 = performance.now();
    for (;;) {
      const b = await reader.read(MiB, 256);
      if (b === undefined) break;
      records += b.records.length;
      await reader.ack(b);
      if (++batches % 8 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const cpu = (cpuMicros() - cpu0) / records;
    const wall = ((performance.now() - wall0) * 1000) / records;
    await log.removeReader(name);
    if (records < 100_000) throw new Error(`read ${records} records`);
    return measure === 'cpu' ? cpu : measure === 'wall' ? wall : peak / MiB;
  } finally {
    await log.close();
  }
}

// Three tables, one per part (each has its own reference implementation for the ratio columns):
// DLOG_BENCH_PART=micro|append|recovery; `npm run bench:durable` runs the three in turn.
const part = process.env['DLOG_BENCH_PART'] ?? 'append';
const micro: BenchCase[] = [
  {
    name: 'checksum of a 10 KiB record',
    itemsPerOp: RECORD,
    itemUnit: 'bytes',
    impls: {
      ours: () => () => crc32c(record),
      'zlib.crc32 (CRC-32/IEEE, native)': () => () => crc32(record),
      'sha1 truncated (crypto.hash)': () => () => hash('sha1', record, 'buffer').readUInt32LE(0),
      'sha1 truncated (createHash)': () => () => createHash('sha1').update(record).digest().readUInt32LE(0),
    },
  },
  {
    kind: 'value',
    name: 'cursor write (one acknowledgement): CPU per write',
    unit: 'µs/write',
    impls: {
      ours: () => cursorCost('slots'),
      'A/B slots through the thread pool (FileHandle.write)': () => cursorCost('slots-async'),
      'temp file + rename (sync)': () => cursorCost('rename'),
    },
  },
];
const append: BenchCase[] = [];
for (const group of [1, 16, 64]) {
  for (const clock of ['cpu', 'wall'] as const) {
    append.push({
      kind: 'value',
      name: `append 10 KiB records, ${group} per turn: ${clock === 'cpu' ? 'CPU' : 'wall time'} per record`,
      unit: 'µs/record',
      impls: {
        interval: () => appendCost('interval', group, clock),
        always: () => appendCost('always', group, clock),
        never: () => appendCost('never', group, clock),
      },
    });
  }
}
const recovery: BenchCase[] = [
  {
    kind: 'value',
    name: 'open a 1 GiB log (recovery: index, last segment checked, cursors), wall time',
    unit: 'ms',
    impls: {
      ours: async () => {
        await bigLog();
        const t0 = performance.now();
        const log = await openDurableLog(BIG_OPTIONS);
        const ms = performance.now() - t0;
        const s = log.stats();
        await log.close();
        if (s.segments < 60) throw new Error(`${s.segments} segments`);
        return ms;
      },
    },
  },
  {
    kind: 'value',
    name: '1 GiB log read back (read + ack, 1 MiB batches): CPU per 10 KiB record',
    unit: 'µs/record',
    impls: { ours: () => readBack('cpu') },
  },
  { kind: 'value', name: '1 GiB log read back: wall time per 10 KiB record', unit: 'µs/record', impls: { ours: () => readBack('wall') } },
  { kind: 'value', name: '1 GiB log read back: peak RSS of the process', unit: 'MiB', impls: { ours: () => readBack('rss') } },
  {
    kind: 'value',
    name: 'RSS of a benchmark process that opens nothing (tsx loader included)',
    unit: 'MiB',
    impls: { ours: () => process.memoryUsage().rss / MiB },
  },
];

if (part === 'micro') await runBench(import.meta.url, { title: 'Durable log: checksum and cursor', cases: micro });
else if (part === 'recovery') await runBench(import.meta.url, { title: 'Durable log: 1 GiB recovery and read-back', cases: recovery });
else await runBench(import.meta.url, { title: 'Durable log: append per fsync policy and group size', ours: 'interval', cases: append });
