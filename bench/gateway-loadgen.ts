/**
 * The benchmark's load generator, run as a child process (`fork`, IPC): sends the
 * 100-point OTLP/HTTP protobuf request (gateway-template.ts) over keep-alive connections
 * (undici Pool), either at a fixed rate (open loop: requests leave on schedule whatever the
 * answers do) or as fast as `connections` closed loops allow.
 *
 * Protocol: argv[2] is the JSON `LoadSpec`. The child warms up for `warmupMs`, sends
 * `{ type: 'warm' }`, waits for `{ type: 'go' }`, measures for `durationMs`, waits (bounded)
 * for the answers still out, then sends `{ type: 'done', result }` and exits. `{ type: 'stop' }` ends
 * a max-mode measurement early.
 */
import { Pool } from 'undici';
import { LatencyHistogram } from '../src/internal/latency.js';
import { benchRequest, nowMicros, writeSentAt } from './gateway-template.js';

/** What to do. */
export interface LoadSpec {
  /** Base URL, e.g. `http://127.0.0.1:4318`; requests go to `/v1/metrics`. */
  readonly url: string;
  readonly mode: 'fixed' | 'max';
  /** Requests per second in `fixed` mode. */
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Keep-alive connections (and closed loops in `max` mode). */
  readonly connections: number;
}

/** What the measured part did. */
export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  /** 429 / 503 answers (backpressure, draining). */
  readonly refused: number;
  readonly errors: number;
  readonly elapsedMs: number;
  /** Response latency as the client saw it. */
  readonly responseP50Ms: number;
  readonly responseP99Ms: number;
  /** Fixed mode: sends that left more than 5 ms after their scheduled time. */
  readonly late: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const { body: template, sentAtOffset } = benchRequest();
const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 });
const headers = { 'content-type': 'application/x-protobuf' };

interface Counts {
  sent: number;
  ok: number;
  refused: number;
  errors: number;
  late: number;
  latency: LatencyHistogram;
}

function counts(): Counts {
  return { sent: 0, ok: 0, refused: 0, errors: 0, late: 0, latency: new LatencyHistogram() };
}

let current = counts();
let outstanding = 0;
/** `{ type: 'stop' }` ends the measured part early (max mode): each loop stops after its request. */
let stopped = false;
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') stopped = true;
});

async function one(): Promise<void> {
  const c = current;
  const body = Buffer.from(template);
  writeSentAt(body, sentAtOffset, nowMicros());
  const started = performance.now();
  c.sent++;
  outstanding++;
  try {
    const res = await pool.request({ path: '/v1/metrics', method: 'POST', headers, body });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      c.ok++;
      c.latency.record(performance.now() - started);
    } else if (res.statusCode === 429 || res.statusCode === 503) c.refused++;
    else c.errors++;
  } catch {
    c.errors++;
  } finally {
    outstanding--;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(durationMs: number): Promise<number> {
  const start = performance.now();
  const end = start + durationMs;
  if (spec.mode === 'max') {
    const loop = async (): Promise<void> => {
      while (performance.now() < end && !stopped) await one();
    };
    await Promise.all(Array.from({ length: spec.connections }, loop));
  } else {
    const gap = 1000 / spec.rate;
    let next = start;
    while (performance.now() < end) {
      const now = performance.now();
      // Bounded burst: a stalled event loop catches up at most 100 requests at once.
      for (let k = 0; next <= now && next < end && k < 100; k++) {
        if (now - next > 5) current.late++;
        void one();
        next += gap;
      }
      await sleep(1);
    }
    // Answers still out belong to this phase; wait for them, but never forever.
    const deadline = performance.now() + 10_000;
    while (outstanding > 0 && performance.now() < deadline) await sleep(2);
  }
  return performance.now() - start;
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (m: { type?: string }): void => {
      if (m.type !== 'go') return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  if (spec.warmupMs > 0) await run(spec.warmupMs);
  const go = waitForGo();
  process.send?.({ type: 'warm' });
  await go;
  current = counts();
  const elapsedMs = await run(spec.durationMs);
  const c = current;
  const result: LoadResult = {
    sent: c.sent,
    ok: c.ok,
    refused: c.refused,
    errors: c.errors,
    elapsedMs,
    responseP50Ms: c.latency.quantile(0.5),
    responseP99Ms: c.latency.quantile(0.99),
    late: c.late,
  };
  process.send?.({ type: 'done', result });
  await pool.close();
  process.disconnect?.();
}

process.on('disconnect', () => process.exit(0));
main().catch((e: unknown) => {
  process.stderr.write(`loadgen failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
