/**
 * `--watch`: calls back when the configuration file's contents change.
 *
 * The file's directory is watched, not the file: editors save by writing a new file and renaming
 * it over the old one (vim, most IDEs), and Kubernetes updates a mounted ConfigMap by swapping a
 * symlinked directory; a watch on the file itself would stay on the old inode and miss both. Any
 * event in the directory starts (or restarts) a short debounce; then the file is read and compared
 * with what was last seen, so a burst of events (truncate, write, rename) is one change, and
 * events of other files, or a save without a change, are none. A file that is missing or empty
 * at that moment is half-written (deleted before its replacement is renamed in, or truncated
 * before it is written): nothing happens, and it is looked at again a little later. Timers are
 * unref()ed and the watch is not persistent: watching never keeps the process alive.
 */
import { readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import * as path from 'node:path';

export interface FileWatchOptions {
  /**
   * Quiet time after the last event before the file is read. Default 200 ms: an editor's save is a
   * burst of events within a few milliseconds; a reload 0.2 s after the save is still immediate to a person.
   */
  readonly debounceMillis?: number;
  /**
   * How long a missing or empty file is looked at again (every `debounceMillis`) before waiting for
   * the next event. Default 5000 ms.
   */
  readonly missingMillis?: number;
  /** The watch failed (its directory was removed, say); it is closed. Default: ignored. */
  readonly onError?: (e: Error) => void;
}

export interface FileWatch {
  /** Stops watching. Idempotent. */
  close(): void;
}

/** Calls `onChange` (without arguments) each time the contents of `file` change. */
export function watchFile(file: string, onChange: () => void, options: FileWatchOptions = {}): FileWatch {
  const debounceMillis = options.debounceMillis ?? 200;
  const missingTries = Math.max(1, Math.ceil((options.missingMillis ?? 5000) / debounceMillis));
  const target = path.resolve(file);
  let last = contents(target);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function schedule(tries: number): void {
    clearTimeout(timer);
    timer = setTimeout(() => check(tries), debounceMillis);
    timer.unref();
  }

  function check(tries: number): void {
    timer = undefined;
    if (closed) return;
    const now = contents(target);
    if (now === undefined || now === '') {
      if (tries > 1) schedule(tries - 1);
      return;
    }
    if (now === last) return;
    last = now;
    onChange();
  }

  let watcher: FSWatcher | undefined = watch(path.dirname(target), { persistent: false }, () => {
    if (!closed) schedule(missingTries);
  });
  watcher.on('error', (e: Error) => {
    close();
    options.onError?.(e);
  });

  function close(): void {
    closed = true;
    clearTimeout(timer);
    watcher?.close();
    watcher = undefined;
  }
  return { close };
}

function contents(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
