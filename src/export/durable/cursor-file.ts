/**
 * A reader's persisted cursor: a 64-byte file, `<name>.cursor`, of two 32-byte slots written in turn
 * (generation n goes to slot n % 2) with one `pwrite` each:
 * ```
 *  0 u32 magic "OFDC"   4 u32 generation   8 f64 position   16 f64 sequence number   24 u32 0
 * 28 u32 CRC-32C of bytes 0–27
 * ```
 * The valid slot with the later generation wins. Why two slots and not write-temp-then-rename: one
 * `pwrite` of 32 bytes costs a few µs of CPU where open + write + close + rename costs ~10× more
 * (bench:durable, "cursor write"), and the cursor moves on every acknowledged delivery. A kill -9 cannot tear a write()
 * that reached the kernel; power loss can tear at most the slot being written, and the other slot
 * still holds the previous cursor: a few deliveries repeated, never a record skipped.
 */
import { constants, writeSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { crc32c } from './crc32c.js';

const CURSOR_MAGIC = 0x4344464f; // "OFDC"
const SLOT_BYTES = 32;
export const CURSOR_SUFFIX = '.cursor';

export interface CursorState {
  /** Position of the first record not yet acknowledged. */
  readonly position: number;
  /** Its sequence number. */
  readonly seq: number;
}

/** File name of reader `name`'s cursor (names are encoded: any string of 1–200 characters is a name). */
export function cursorFileName(name: string): string {
  return `${encodeURIComponent(name)}${CURSOR_SUFFIX}`;
}

/** The reader name a cursor file name encodes, or undefined when `file` is not a cursor's. */
export function parseCursorFileName(file: string): string | undefined {
  if (!file.endsWith(CURSOR_SUFFIX) || file.length === CURSOR_SUFFIX.length) return undefined;
  try {
    const name = decodeURIComponent(file.slice(0, -CURSOR_SUFFIX.length));
    return cursorFileName(name) === file ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The latest valid slot of a cursor file's bytes, with its generation; undefined when neither slot is valid. */
export function decodeCursor(bytes: Uint8Array): { state: CursorState; generation: number } | undefined {
  let best: { state: CursorState; generation: number } | undefined;
  for (let at = 0; at + SLOT_BYTES <= bytes.length && at < 2 * SLOT_BYTES; at += SLOT_BYTES) {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset + at, SLOT_BYTES);
    if (b.readUInt32LE(0) !== CURSOR_MAGIC || b.readUInt32LE(28) !== crc32c(b, 0, 28)) continue;
    const generation = b.readUInt32LE(4);
    const position = b.readDoubleLE(8);
    const seq = b.readDoubleLE(16);
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(seq) || seq < 0) continue;
    // Generations wrap at 2^32: compare by serial-number arithmetic.
    if (best === undefined || ((generation - best.generation) | 0) > 0) best = { state: { position, seq }, generation };
  }
  return best;
}

/** Reads a cursor file: its state, 'missing' when there is no file, 'corrupt' when no slot is valid. */
export async function readCursorFile(path: string): Promise<{ state: CursorState; generation: number } | 'missing' | 'corrupt'> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return (e as { code?: unknown }).code === 'ENOENT' ? 'missing' : 'corrupt';
  }
  return decodeCursor(bytes) ?? 'corrupt';
}

/** Writes successive cursor states to one file, alternating slots. */
export class CursorWriter {
  readonly #slot = Buffer.alloc(SLOT_BYTES);
  #generation: number;

  private constructor(
    readonly path: string,
    readonly handle: FileHandle,
    generation: number,
  ) {
    this.#generation = generation;
  }

  /** Opens (creating) `path`; `generation` is the one read from it (0 for a new file). */
  static async open(path: string, generation: number): Promise<CursorWriter> {
    // Created if missing, never truncated (the existing slots stay valid until overwritten).
    return new CursorWriter(path, await open(path, constants.O_RDWR | constants.O_CREAT), generation);
  }

  /**
   * Writes `state` into the older slot. Synchronous, like the log's appends (see `writeAll` in
   * log.ts): one 32-byte pwrite costs ~3 µs of CPU, the same through the thread pool 30–80 µs.
   * Throws the platform error.
   */
  write(state: CursorState): void {
    const g = (this.#generation + 1) >>> 0;
    const b = this.#slot;
    b.writeUInt32LE(CURSOR_MAGIC, 0);
    b.writeUInt32LE(g, 4);
    b.writeDoubleLE(state.position, 8);
    b.writeDoubleLE(state.seq, 16);
    b.writeUInt32LE(0, 24);
    b.writeUInt32LE(crc32c(b, 0, 28), 28);
    if (writeSync(this.handle.fd, b, 0, SLOT_BYTES, (g & 1) * SLOT_BYTES) !== SLOT_BYTES) throw new Error('short cursor write');
    this.#generation = g;
  }

  async sync(): Promise<void> {
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
