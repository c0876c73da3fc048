/**
 * Helpers of the durable log's tests: temporary directories, records that carry their own index
 * (so a test can tell which record it got back and that its bytes are intact), a seeded PRNG.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDurableLog, type DurableLog } from '../../../src/export/durable/log.js';
import type { DurableLogReader, ReadBatch } from '../../../src/export/durable/reader.js';

export function tempDir(prefix = 'dlog-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export { prng } from '../../support/prng.js';

type LogOptions = Partial<Parameters<typeof openDurableLog>[0]>;

/**
 * A fresh directory per test of `test`, and the logs the test opened there: closed and removed
 * after each test, whatever the test did. `open()` uses 4 MiB / 64 KiB segments unless told.
 */
export function logFixture(test: { before: { each(fn: () => void): void }; after: { each(fn: () => Promise<void>): void } }) {
  let dir: ReturnType<typeof tempDir> | undefined;
  const open: DurableLog[] = [];
  test.before.each(() => {
    dir = tempDir();
  });
  test.after.each(async () => {
    for (const log of open.splice(0)) await log.close();
    dir?.remove();
  });
  return {
    get dir(): string {
      return dir!.path;
    },
    async open(options: LogOptions = {}): Promise<DurableLog> {
      const log = await openDurableLog({ directory: dir!.path, maxBytes: 4 * 1024 * 1024, segmentBytes: 64 * 1024, ...options });
      open.push(log);
      return log;
    },
    async close(log: DurableLog): Promise<void> {
      await log.close();
      open.splice(open.indexOf(log), 1);
    },
  };
}

/** A record of `size` bytes (≥ 8) that says which it is: u32 index, u32 size, then bytes derived from both. */
export function record(index: number, size = 100): Buffer {
  const b = Buffer.alloc(Math.max(8, size));
  b.writeUInt32LE(index, 0);
  b.writeUInt32LE(b.length, 4);
  for (let i = 8; i < b.length; i++) b[i] = (index * 31 + i * 7) & 0xff;
  return b;
}

/** The index of a record made by `record`, or -1 when its bytes are not intact. */
export function indexOf(payload: Uint8Array): number {
  if (payload.length < 8) return -1;
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const index = b.readUInt32LE(0);
  if (b.readUInt32LE(4) !== b.length) return -1;
  for (let i = 8; i < b.length; i++) if (b[i] !== ((index * 31 + i * 7) & 0xff)) return -1;
  return index;
}

/** Reads and acknowledges everything the reader has now; the indexes, in order. */
export async function drain(reader: DurableLogReader, maxBytes?: number, maxRecords?: number): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const batch: ReadBatch | undefined = await reader.read(maxBytes, maxRecords);
    if (batch === undefined) return out;
    for (const r of batch.records) out.push(indexOf(r));
    await reader.ack(batch);
  }
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** The reason `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
