/**
 * A child process watched by a test: its output collected, a wait for a stdout line, a bounded wait
 * for its exit. `cli()` runs `otlp-fanout` from src/ (tsx), as the CLI tests do.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('../../', import.meta.url));

/** The gateway's first stdout line: receivers' addresses and its pid. */
export const LISTENING = /otlp-fanout gateway listening grpc=(\S+) http=(\S+) pid=(\d+)/;

export interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the first stdout match of `re`; rejects after `timeoutMs` (generous: tsx compiles on start). */
  line(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code (null when killed by a signal); rejects (and kills the child) after `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | null>;
}

/** Watches a child spawned with piped stdout and stderr. */
export function watch(child: ChildProcess): Run {
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async line(re, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(out);
        if (m !== null) return m;
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > until) {
          throw new Error(`no line matching ${re} (exit ${child.exitCode ?? child.signalCode}); stdout:\n${out}\nstderr:\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async exit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the child did not exit within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** `otlp-fanout ARGS` from src/ with tsx, in the repository root. */
export function cli(args: readonly string[], env: Record<string, string> = {}): Run {
  return watch(
    spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Whether a process with this pid exists (a zombie counts until it is reaped). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
