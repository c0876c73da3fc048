/**
 * Linux `/proc/self` readers for the two process metrics Node.js has no API for:
 * committed virtual memory and the number of open file descriptors.
 *
 * Synchronous reads on purpose: procfs files are generated in memory by the kernel (no
 * disk, no blocking), a read costs a few microseconds, and a collection callback that
 * stays synchronous keeps every reading of one collection at the same instant.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** What this platform can tell about the process beyond `process.*`. */
export interface ProcReaders {
  /** Committed virtual memory in bytes (`VmSize`), or undefined when the read fails. */
  readonly virtualMemory: (() => number | undefined) | undefined;
  /** Open file descriptors, or undefined when the read fails. */
  readonly openFileDescriptors: (() => number | undefined) | undefined;
}

const NONE: ProcReaders = Object.freeze({ virtualMemory: undefined, openFileDescriptors: undefined });

/**
 * The readers that work here: probed once, so a platform without procfs (macOS,
 * Windows, a container without /proc) never creates the instruments at all, rather than
 * reporting zeros.
 */
export function procReaders(root = '/proc/self', platform: string = process.platform): ProcReaders {
  if (platform !== 'linux') return NONE;
  const status = `${root}/status`;
  const fdDir = `${root}/fd`;
  const virtualMemory = (): number | undefined => {
    try {
      return parseVmSize(readFileSync(status, 'latin1'));
    } catch {
      return undefined;
    }
  };
  const openFileDescriptors = (): number | undefined => {
    try {
      // The listing includes the descriptor readdir itself holds open on the directory.
      return readdirSync(fdDir).length - 1;
    } catch {
      return undefined;
    }
  };
  return Object.freeze({
    virtualMemory: virtualMemory() === undefined ? undefined : virtualMemory,
    openFileDescriptors: openFileDescriptors() === undefined ? undefined : openFileDescriptors,
  });
}

/**
 * `VmSize` of a `/proc/<pid>/status` text, in bytes. The status file rather than
 * `statm`: `statm` counts pages, and Node.js cannot tell the page size (4 KiB on x86,
 * 16 or 64 KiB on some arm64 kernels), while `status` states kB.
 */
export function parseVmSize(status: string): number | undefined {
  const at = status.indexOf('VmSize:');
  if (at < 0) return undefined;
  const m = /^VmSize:\s*(\d+)\s*kB/.exec(status.slice(at, at + 64));
  return m === null ? undefined : Number(m[1]) * 1024;
}
