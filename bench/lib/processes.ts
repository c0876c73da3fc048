/**
 * Helpers for benchmarks that run the gateway and its peers as separate processes:
 * building the gateway as it ships, IPC waits, and /proc readings of another process.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The gateway as it ships: src/ and gen/ transpiled to JS (what `npm run build` emits, by
 * esbuild, which tsx brings along and which takes well under a second) in a temporary
 * directory whose node_modules links to ours. Running it through tsx instead would add
 * the loader's ~35 MiB to the RSS being measured. `from`: another checkout (an A/B against an
 * older version, with its own node_modules). The caller removes `dir`.
 */
export function compileGateway(prefix: string, from: string = root): { cli: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const f = path.join(d, e);
      if (statSync(f).isDirectory()) walk(f);
      else if (f.endsWith('.ts')) files.push(f);
    }
  };
  walk(path.join(from, 'src'));
  walk(path.join(from, 'gen'));
  execFileSync(path.join(root, 'node_modules/.bin/esbuild'), [
    ...files,
    `--outdir=${dir}`,
    `--outbase=${from}`,
    '--format=esm',
    '--platform=node',
    '--target=node20',
    '--log-level=warning',
  ]);
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(path.join(from, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { cli: path.join(dir, 'src/cli.js'), dir };
}

/** Resolves with the first IPC message of `type`, or rejects after `ms`. */
export function message<T>(child: ChildProcess, type: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`no "${type}" from child ${child.pid} within ${ms} ms`));
    }, ms);
    const on = (m: { type?: string }): void => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

/** utime + stime of `pid`, in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), counted from `state` (field 3) here; clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Resident set size of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** The node flags of package.json's `start` script (`node --flag … dist/src/cli.js gateway`), as `npm start` runs the gateway. */
export function startScriptFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const words = (pkg.scripts?.['start'] ?? '').split(/\s+/);
  const flags: string[] = [];
  for (const w of words.slice(words.indexOf('node') + 1)) {
    if (!w.startsWith('--')) break;
    flags.push(w);
  }
  return flags;
}
