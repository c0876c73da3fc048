/**
 * Gateway start-up: time from spawn to the "listening" line, and the idle process after
 * start-up (heap used after a full GC, RSS), for configurations that use gRPC, HTTP or both.
 * The gateway is the compiled CLI (bench/lib/processes.ts), run as `npm start` runs it.
 *
 * Run: `node --import tsx/esm bench/gateway-startup.ts [--starts 5]`. Prints a markdown table:
 * median (min–max) of the starts; the idle figures from one more start, 1.5 s after listening.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median } from './lib/harness.js';
import { compileGateway } from './lib/processes.js';

const argv = process.argv.slice(2);
const starts = Math.max(1, Number(argv[argv.indexOf('--starts') + 1] ?? 5) || 5);

// Nothing listens on these: the upstreams only have to exist in the configuration.
const SCENARIOS: readonly { name: string; args: string[] }[] = [
  { name: '`npm start` default: gRPC receiver, no upstream', args: ['--grpc', '127.0.0.1:0'] },
  { name: 'HTTP only: no gRPC receiver, one HTTP upstream', args: ['--grpc', 'off', '--forward', 'http://127.0.0.1:9'] },
  {
    name: 'both: gRPC receiver, one HTTP and one gRPC upstream',
    args: ['--grpc', '127.0.0.1:0', '--forward', 'http://127.0.0.1:9', '--forward', 'grpc://127.0.0.1:9'],
  },
];

/** Starts the gateway; resolves with ms to "listening" and, with `idle`, the preload's idle report. */
function start(cli: string, args: readonly string[], preload: string | undefined): Promise<{ ms: number; idle?: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const flags = ['--max-semi-space-size=2', ...(preload === undefined ? [] : ['--expose-gc', '--import', preload])];
    const child = spawn(process.execPath, [...flags, cli, 'gateway', '--http', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let ms = 0;
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "listening" within 15 s: ${out}`));
    }, 15_000);
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (ms === 0 && out.includes('listening')) {
        ms = performance.now() - t0;
        if (preload === undefined) child.kill('SIGKILL');
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      const m = /IDLE (.*)/.exec(c);
      if (m === null) return;
      out += `\nIDLE ${m[1]}`;
      child.kill('SIGKILL');
    });
    child.on('exit', () => {
      clearTimeout(timer);
      const idle = /IDLE (.*)/.exec(out)?.[1];
      if (ms === 0) reject(new Error(`gateway exited before listening: ${out}`));
      else resolve(idle === undefined ? { ms } : { ms, idle });
    });
  });
}

async function main(): Promise<void> {
  const { cli, dir } = compileGateway('otlp-fanout-gateway-startup-');
  const preload = path.join(dir, 'idle-report.mjs');
  writeFileSync(
    preload,
    'setTimeout(() => { gc(); gc(); const m = process.memoryUsage(); process.stderr.write(`IDLE ${(m.heapUsed / 1048576).toFixed(1)} | ${(m.rss / 1048576).toFixed(1)}\\n`); }, 1500);\n',
  );
  try {
    const rows: string[] = [];
    for (const s of SCENARIOS) {
      const times: number[] = [];
      for (let i = 0; i < starts; i++) times.push((await start(cli, s.args, undefined)).ms);
      const { idle } = await start(cli, s.args, preload);
      const f = (v: number): string => v.toFixed(0);
      rows.push(`| ${s.name} | ${f(median(times))} (${f(Math.min(...times))}–${f(Math.max(...times))}) | ${idle ?? '– | –'} |`);
      process.stderr.write(`${s.name}: done\n`);
    }
    process.stdout.write(
      ['| configuration | ms to "listening" | idle heap used (MiB) | idle RSS (MiB) |', '| --- | --- | --- | --- |', ...rows].join('\n') + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
