/**
 * Fuzz target for the durable log's own files: segments (and cursor files) made from valid ones by
 * seeded mutations (bit flips, random overwrites, truncation, insertions, deletions, duplicated
 * ranges, forged lengths, spliced segments) or from random bytes, then
 * - parsed directly (`decodeSegmentHeader`, `nextFrame` walked over the whole file), and
 * - for one input in four, placed in a log directory that is opened, read to the end and closed.
 * Checks: nothing throws, every walk makes progress and ends (no hang), every record read back is
 * one that was written (intact, in order, none invented), memory stays bounded.
 *
 * Long run (documented in BENCHMARKS.md, "Durable log"):
 *   node --import tsx/esm test/export/durable/fuzz.ts --runs 100000 --seed 1
 * `fuzz.test.ts` runs 2,000 inputs of seed 1 in the unit suite.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDurableLog } from '../../../src/export/durable/log.js';
import { FrameCursor, decodeSegmentHeader, nextFrame, segmentFileName } from '../../../src/export/durable/format.js';
import { decodeCursor } from '../../../src/export/durable/cursor-file.js';
import { concat, mutateBytes, type Mutation, type Pick } from '../../support/mutate.js';
import { indexOf, prng, record, tempDir } from './support.js';

export interface FuzzReport {
  readonly runs: number;
  readonly opened: number;
  readonly failures: readonly string[];
  readonly recordsRead: number;
  readonly corruptRecords: number;
  readonly heapGrowthBytes: number;
  readonly millis: number;
}

interface Corpus {
  /** Valid segment files (bytes, base) written by the log itself. */
  readonly segments: readonly { bytes: Buffer; base: number }[];
  readonly cursor: Buffer;
}

/** Writes a small real log and keeps its files as the seeds of the mutations. */
async function corpus(random: () => number): Promise<Corpus> {
  const dir = tempDir('dlog-fuzz-corpus-');
  try {
    const log = await openDurableLog({ directory: dir.path, maxBytes: 1024 * 1024, segmentBytes: 16 * 1024, fsync: 'never' });
    await log.reader('r');
    for (let i = 0; i < 60; i++) await log.append(record(i, 8 + Math.floor(random() * 1500)));
    await log.close();
    const files = readdirSync(dir.path)
      .filter((f) => f.endsWith('.seg'))
      .sort();
    return {
      segments: files.map((f) => ({ bytes: readFileSync(join(dir.path, f)), base: Number(f.slice(0, 16)) })),
      cursor: readFileSync(join(dir.path, 'r.cursor')),
    };
  } finally {
    dir.remove();
  }
}

/** Log-format mutations on top of the format-blind ones (test/support/mutate.ts). */
function mutate(input: Buffer, random: () => number, pick: Pick, other: Buffer): Buffer {
  const special: Mutation[] = [
    // a forged length in the first frame header at or after `at` (header checksum then wrong)
    (b, at) => {
      if (at + 8 <= b.length)
        new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at + 4 - (at % 4), random() < 0.5 ? 0xffffffff : pick(1 << 30), true);
      return b;
    },
    // zeroes
    (b, at) => b.fill(0, at, Math.min(b.length, at + 1 + pick(4096))),
    // another segment spliced in (foreign nonce)
    (b, at) => concat(b.subarray(0, at), other.subarray(pick(Math.max(1, other.length)))),
    // random bytes throughout
    () => Uint8Array.from(Array.from({ length: pick(4096) }, () => pick(256))),
  ];
  const b = mutateBytes(input, pick, 100, special);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Walks every frame of `bytes` as readers and recovery do; throws if a step makes no progress. */
function walk(bytes: Buffer, cursor: FrameCursor): number {
  const header = decodeSegmentHeader(bytes);
  const nonce = typeof header === 'string' ? 0x12345678 : header.nonce;
  let seq = typeof header === 'string' ? 0 : header.firstSeq;
  let p = 32;
  let records = 0;
  for (let guard = 0; p < bytes.length; guard++) {
    if (guard > bytes.length + 10) throw new Error('walk does not end');
    const step = nextFrame(bytes, p, bytes.length, bytes.length, nonce, seq, true, cursor);
    if (step === 'short' || step === 'partial') break;
    if (cursor.end <= p) throw new Error(`no progress at ${p} (${step})`);
    if (step === 'record') {
      records++;
      if (cursor.end - cursor.payloadStart > bytes.length) throw new Error('record larger than the file');
    }
    if (step === 'record' || step === 'corrupt') seq = cursor.seq + 1;
    p = cursor.end;
  }
  return records;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `runs` seeded inputs; returns what it found (failures listed, never thrown). */
export async function runFuzz(options: { runs: number; seed: number; progress?: (done: number) => void }): Promise<FuzzReport> {
  const started = Date.now();
  const random = prng(options.seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const seeds = await corpus(random);
  const cursor = new FrameCursor();
  const failures: string[] = [];
  const dir = tempDir('dlog-fuzz-');
  let opened = 0;
  let recordsRead = 0;
  let corruptRecords = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  try {
    for (let run = 0; run < options.runs; run++) {
      const what = `seed ${options.seed} input ${run}`;
      const nSegments = 1 + pick(seeds.segments.length);
      const first = pick(seeds.segments.length - nSegments + 1);
      const files = seeds.segments.slice(first, first + nSegments).map((s) => ({ base: s.base, bytes: s.bytes }));
      const victim = pick(files.length);
      const other = seeds.segments[pick(seeds.segments.length)]!.bytes;
      files[victim] = { base: files[victim]!.base, bytes: mutate(files[victim]!.bytes, random, pick, other) };
      try {
        for (const f of files) walk(f.bytes, cursor);
        decodeCursor(mutate(seeds.cursor, random, pick, seeds.cursor));
      } catch (e) {
        failures.push(`${what}: parser: ${(e as Error).stack}`);
        continue;
      }
      if (run % 4 !== 0) continue;
      // The whole log: open (recovery), read everything, close.
      opened++;
      const logDir = join(dir.path, String(run));
      mkdirSync(logDir);
      for (const f of files) writeFileSync(join(logDir, segmentFileName(f.base)), f.bytes);
      if (random() < 0.5) writeFileSync(join(logDir, 'r.cursor'), random() < 0.5 ? seeds.cursor : mutate(seeds.cursor, random, pick, seeds.cursor));
      try {
        const got = await withTimeout(
          (async () => {
            const log = await openDurableLog({ directory: logDir, maxBytes: 1024 * 1024, segmentBytes: 16 * 1024, fsync: 'never' });
            try {
              const reader = await log.reader('r');
              const indexes: number[] = [];
              for (;;) {
                const b = await reader.read(64 * 1024, 64);
                if (b === undefined) break;
                for (const r of b.records) indexes.push(indexOf(r));
                await reader.ack(b);
              }
              // The log still works after whatever it recovered from.
              await log.append(record(1000, 100));
              const more = await reader.read();
              if (more?.records.length !== 1 || indexOf(more.records[0]!) !== 1000) throw new Error('append after recovery not read back');
              corruptRecords += log.stats().corruptRecords;
              return indexes;
            } finally {
              await log.close();
            }
          })(),
          10_000,
          what,
        );
        recordsRead += got.length;
        // Every record read was written, intact, each once and in order.
        if (got.some((i) => i < 0 || i >= 60)) failures.push(`${what}: a record not written, or damaged, was read: ${got.join(',')}`);
        if (got.some((i, k) => k > 0 && i <= got[k - 1]!)) failures.push(`${what}: records out of order or repeated: ${got.join(',')}`);
      } catch (e) {
        failures.push(`${what}: ${(e as Error).stack}`);
      }
      rmSync(logDir, { recursive: true, force: true });
      options.progress?.(run + 1);
    }
  } finally {
    dir.remove();
  }
  return {
    runs: options.runs,
    opened,
    failures,
    recordsRead,
    corruptRecords,
    heapGrowthBytes: process.memoryUsage().heapUsed - heapBefore,
    millis: Date.now() - started,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? fallback : Number(process.argv[i + 1]);
  };
  const runs = arg('runs', 100_000);
  const seed = arg('seed', 1);
  let peakRss = 0;
  const report = await runFuzz({
    runs,
    seed,
    progress: (done) => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (done % 10_000 < 4) console.log(`${done} / ${runs}`);
    },
  });
  console.log(
    `durable log fuzz: ${report.runs} inputs (seed ${seed}), ${report.opened} opened as a log, ${report.recordsRead} records read back, ` +
      `${report.corruptRecords} counted damaged, ${report.failures.length} failures, ${(report.millis / 1000).toFixed(1)} s, ` +
      `peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB, heap growth ${(report.heapGrowthBytes / 1024 / 1024).toFixed(1)} MiB`,
  );
  for (const f of report.failures.slice(0, 20)) console.log(f);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}
