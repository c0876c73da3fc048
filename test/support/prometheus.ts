/**
 * A real Prometheus for the interop tests (Debian's `prometheus` package, 2.42; `.ci/run` installs it):
 * started on loopback with a temporary config and data directory, queried through its HTTP API, stopped
 * (or restarted on the same data) by the test. Every wait is bounded.
 *
 * When the binary is missing: under CI (`CI=true`) the suite fails with a message saying how to install
 * it; elsewhere it reports "skipped: prometheus not installed" and its tests pass without running.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/** The prometheus binary, or undefined when it is not installed. */
export function prometheusBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/**
 * Whether the Prometheus tests can run: true with the binary; false (after saying so) without it
 * outside CI; under CI without it, throws.
 */
export function prometheusAvailable(suiteName: string): boolean {
  if (prometheusBinary() !== undefined) return true;
  if (process.env['CI'] === 'true') {
    throw new Error(`${suiteName}: the prometheus binary is not installed (CI installs it: apt-get install -y prometheus, see .ci/run)`);
  }
  console.log(`${suiteName}: skipped: prometheus not installed (apt-get install -y prometheus)`);
  return false;
}

/** One scrape job. */
export interface ScrapeJob {
  readonly job: string;
  /** `host:port`. */
  readonly target: string;
  readonly path?: string;
  readonly bearerToken?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  /** Keep the target's job/instance labels (the gateway's page carries its sources'). */
  readonly honorLabels?: boolean;
}

export interface PrometheusOptions {
  readonly scrape?: readonly ScrapeJob[];
  /** Scrape every this many seconds. Default 1. */
  readonly intervalSeconds?: number;
}

/** A vector result of an instant query. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface RunningPrometheus {
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  /** The remote write receiver's URL. */
  readonly writeUrl: string;
  /** An instant query; throws on an API error. */
  query(promql: string): Promise<Sample[]>;
  /** Polls `promql` until `accept` takes its result; throws with the last result after `timeoutMs`. */
  waitFor(promql: string, accept: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  /** Stops it (SIGTERM, then SIGKILL after 10 s) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it (once stopped, `restart()` starts it again). */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
  /** What it printed (for failure messages). */
  log(): string;
}

const READY_TIMEOUT_MS = 30_000;

export async function startPrometheus(options: PrometheusOptions = {}): Promise<RunningPrometheus> {
  const binary = prometheusBinary();
  if (binary === undefined) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'otlp-fanout-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const interval = options.intervalSeconds ?? 1;
  writeFileSync(join(dir, 'prometheus.yml'), configText(options.scrape ?? [], interval));
  let child: ChildProcess | undefined;
  let output = '';

  async function start(): Promise<void> {
    child = spawn(
      binary!,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const until = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > until) throw new Error(`prometheus not ready after ${READY_TIMEOUT_MS} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  async function query(promql: string): Promise<Sample[]> {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${promql}: ${body.error ?? res.status}`);
    if (body.data.resultType !== 'vector') throw new Error(`query ${promql}: a ${body.data.resultType}, not a vector`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  await start();
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    query,
    async waitFor(promql, accept, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last: Sample[] | string = [];
      for (;;) {
        try {
          last = await query(promql);
          if (accept(last)) return last;
        } catch (e) {
          last = String(e);
        }
        if (Date.now() > until) throw new Error(`${promql}: no acceptable answer in ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async restart() {
      await stop();
      await start();
    },
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}

function configText(jobs: readonly ScrapeJob[], interval: number): string {
  let out = `global:\n  scrape_interval: ${interval}s\n  scrape_timeout: ${interval}s\n  evaluation_interval: ${interval}s\n`;
  if (jobs.length === 0) return out;
  out += 'scrape_configs:\n';
  for (const j of jobs) {
    out += `  - job_name: ${JSON.stringify(j.job)}\n    metrics_path: ${JSON.stringify(j.path ?? '/metrics')}\n`;
    if (j.honorLabels === true) out += '    honor_labels: true\n';
    if (j.bearerToken !== undefined) out += `    authorization:\n      credentials: ${JSON.stringify(j.bearerToken)}\n`;
    if (j.basic !== undefined) {
      out += `    basic_auth:\n      username: ${JSON.stringify(j.basic.username)}\n      password: ${JSON.stringify(j.basic.password)}\n`;
    }
    out += `    static_configs:\n      - targets: [${JSON.stringify(j.target)}]\n`;
  }
  return out;
}
