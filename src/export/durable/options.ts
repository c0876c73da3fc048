/**
 * Options of the durable log, their defaults and their validation into a frozen, complete shape.
 */
import { ConfigProblemError } from '../../internal/config-problem.js';

/**
 * When appended records are flushed to stable storage. Every policy resolves an append only after
 * its `write()` returned: the bytes are in the kernel's page cache, which a process crash, an OOM
 * kill or `kill -9` cannot undo. They differ on power loss or a kernel crash:
 * - `always`: `fdatasync` before an append resolves (one per group commit): an acknowledged record
 *   survives power loss;
 * - `interval`: `fdatasync` every `fsyncIntervalMillis` in the background: power loss can lose the
 *   acknowledged records of the last interval;
 * - `never`: the kernel writes back when it wants (Linux: dirty pages older than ~30 s): power loss can
 *   lose the last ~30 s.
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface DurableLogOptions {
  /** Directory of the log (created if missing). One process at a time: a live owner makes opening fail. */
  readonly directory: string;
  /**
   * Bytes on disk the log may use (segments: headers, frames). An append that would pass it is refused
   * (`full`) before anything is written. Default 1 GiB: the reference backlog.
   */
  readonly maxBytes?: number;
  /**
   * Size at which a new segment file is started; space is freed a whole segment at a time, once every
   * reader has passed it. Default 16 MiB: a 1 GiB log is 64 files (a small index, few descriptors), and
   * a reader dropping its oldest data frees 1.6 % of the log at a time. With a smaller maxBytes the
   * default is maxBytes / 8 (at least 4 KiB). Must be at most maxBytes / 2.
   */
  readonly segmentBytes?: number;
  /**
   * Largest record accepted (`too_large` above). A record larger than `segmentBytes` gets a segment of
   * its own. Default 64 MiB (the gateway's default request limit), capped at maxBytes / 2.
   */
  readonly maxRecordBytes?: number;
  /** See `FsyncPolicy`. Default `interval`: survives kill -9 at the cost of a write, bounds power loss to one interval. */
  readonly fsync?: FsyncPolicy;
  /** Period of the background `fdatasync` under `interval`. Default 1000 ms (Redis's `appendfsync everysec`). */
  readonly fsyncIntervalMillis?: number;
}

export type ResolvedDurableLogOptions = Required<DurableLogOptions>;

export const DURABLE_LOG_DEFAULTS = Object.freeze({
  maxBytes: 1024 * 1024 * 1024,
  segmentBytes: 16 * 1024 * 1024,
  maxRecordBytes: 64 * 1024 * 1024,
  fsync: 'interval' as FsyncPolicy,
  fsyncIntervalMillis: 1000,
});

const MIN_SEGMENT_BYTES = 4096;
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

/**
 * A storage option the log cannot take. Owned here, like the options themselves (export/ does not
 * load config/); the config layer and the gateway read its fields, never its message.
 */
export class DurableLogOptionError extends ConfigProblemError {
  override readonly name = 'DurableLogOptionError';
}

/**
 * Checks `options` once; `path` prefixes field names in errors (`storage.maxBytes`). Throws
 * `DurableLogOptionError` naming the field, the value and what is allowed.
 */
export function validateDurableLogOptions(options: DurableLogOptions, path = 'storage'): ResolvedDurableLogOptions {
  const field = (name: string): string => (path === '' ? name : `${path}.${name}`);
  if (typeof options.directory !== 'string' || options.directory === '') {
    throw new DurableLogOptionError(field('directory'), options.directory, 'a non-empty path');
  }
  const int = (name: keyof typeof DURABLE_LOG_DEFAULTS, value: unknown, min: number, max: number): number => {
    if (value === undefined) return DURABLE_LOG_DEFAULTS[name] as number;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new DurableLogOptionError(field(name), value, `an integer from ${min} to ${max}`);
    }
    return value;
  };
  const maxBytes = int('maxBytes', options.maxBytes, 2 * MIN_SEGMENT_BYTES, Number.MAX_SAFE_INTEGER);
  const segmentBytes =
    options.segmentBytes === undefined
      ? Math.max(MIN_SEGMENT_BYTES, Math.min(DURABLE_LOG_DEFAULTS.segmentBytes, Math.floor(maxBytes / 8)))
      : int('segmentBytes', options.segmentBytes, MIN_SEGMENT_BYTES, Math.min(MAX_SEGMENT_BYTES, Math.floor(maxBytes / 2)));
  const maxRecordBytes =
    options.maxRecordBytes === undefined
      ? Math.min(DURABLE_LOG_DEFAULTS.maxRecordBytes, Math.floor(maxBytes / 2))
      : int('maxRecordBytes', options.maxRecordBytes, 1, Math.min(0xffffffff, Math.floor(maxBytes / 2)));
  const fsync = options.fsync ?? DURABLE_LOG_DEFAULTS.fsync;
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'never') {
    throw new DurableLogOptionError(field('fsync'), fsync, '"always", "interval" or "never"');
  }
  const fsyncIntervalMillis = int('fsyncIntervalMillis', options.fsyncIntervalMillis, 1, 3_600_000);
  return Object.freeze({ directory: options.directory, maxBytes, segmentBytes, maxRecordBytes, fsync, fsyncIntervalMillis });
}
