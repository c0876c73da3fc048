/**
 * One segment of the index the log keeps in memory (a few hundred bytes per segment file, never the
 * records): where it starts, its logical size, and a read handle opened on first use.
 */
import { open, type FileHandle } from 'node:fs/promises';

export class Segment {
  /** Bytes of the file that hold the header and whole, written frames (the file may be longer after a failed write). */
  size: number;
  /** File offset below which every payload checksum was verified by some reader (the next readers skip them). */
  verifiedTo: number;
  /** Read handle, opened on first read, closed when no reader is in the segment any more. */
  handle: Promise<FileHandle> | undefined = undefined;
  /** A failed write could not be undone: nothing more is written here (the next append starts a segment). */
  broken = false;

  constructor(
    /** Global position of the file's first byte. */
    readonly base: number,
    /** Sequence number of its first record. */
    readonly firstSeq: number,
    readonly nonce: number,
    readonly path: string,
    size: number,
    verifiedTo: number,
  ) {
    this.size = size;
    this.verifiedTo = verifiedTo;
  }

  /** Global position just after the last frame. */
  get end(): number {
    return this.base + this.size;
  }

  /** Reads in progress on the handle: it is closed only when none is. */
  users = 0;

  /** The read handle, for one scan; pair with `unuse()`. */
  acquire(): Promise<FileHandle> {
    const h = (this.handle ??= open(this.path, 'r'));
    h.catch(() => {
      if (this.handle === h) this.handle = undefined; // try again on the next read
    });
    this.users++;
    return h;
  }

  unuse(): void {
    this.users--;
  }

  /** Closes the read handle unless a scan is using it; failures are ignored (read-only to us). */
  release(): Promise<void> {
    if (this.users > 0) return Promise.resolve();
    const h = this.handle;
    this.handle = undefined;
    return h === undefined ? Promise.resolve() : h.then((f) => f.close()).catch(() => undefined);
  }
}
