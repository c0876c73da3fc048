/**
 * Helpers of the durable log's tests: temporary directories, records that carry their own index
 * (so a test can tell which record it got back and that its bytes are intact), a seeded PRNG.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DurableLogReader, ReadBatch } from '../../../src/export/durable/reader.js';

export function tempDir(prefix = 'dlog-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** mulberry32: small, seeded, good enough for tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
