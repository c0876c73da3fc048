/**
 * The one error class of the durable log, with a closed set of codes, and the mapping of platform
 * errors onto them (the only place that reads `errno` codes).
 */

export type DurableLogErrorCode =
  | 'full' // maxBytes reached: readers hold the space (see `holders`); refused before anything was written
  | 'no_space' // the file system is full (ENOSPC, EDQUOT): nothing of the append is acknowledged
  | 'io' // another I/O error writing or syncing: nothing of the append is acknowledged
  | 'too_large' // one record over maxRecordBytes: never written
  | 'closed' // the log was closed
  | 'locked'; // another live process has the directory open

/** A reader that holds the oldest segment, named in a `full` answer. */
export interface ReaderHold {
  readonly name: string;
  /** Bytes (frames, on disk) between the reader's acknowledged position and the end of the log. */
  readonly backlogBytes: number;
  readonly backlogRecords: number;
}

export class DurableLogError extends Error {
  override readonly name = 'DurableLogError';
  constructor(
    readonly code: DurableLogErrorCode,
    message: string,
    /** For `full`: the readers whose position keeps the oldest segment on disk, most behind first. */
    readonly holders: readonly ReaderHold[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether trying the same append later may succeed: the caller answers with a retryable status. */
  get retryable(): boolean {
    return this.code === 'full' || this.code === 'no_space' || this.code === 'io';
  }

  /** A platform failure (or anything thrown) during `doing`, as a DurableLogError. */
  static from(reason: unknown, doing: string): DurableLogError {
    if (reason instanceof DurableLogError) return reason;
    const errno = (reason as { code?: unknown } | null)?.code;
    const detail = reason instanceof Error ? reason.message : String(reason);
    // ENOSPC: the device is full; EDQUOT: the user's quota is. Both clear up when space is freed.
    const code: DurableLogErrorCode = errno === 'ENOSPC' || errno === 'EDQUOT' ? 'no_space' : 'io';
    return new DurableLogError(code, `durable log: ${doing}: ${detail}`, [], { cause: reason });
  }
}
