/**
 * Overload, with real processes: the gateway (the CLI) forwards to an upstream that takes ~90
 * requests/s (one delivery at a time, no merging, 10 ms per answer), while clients send 1,000
 * requests/s — ten times that — for 60 s (`SOAK_SECONDS`). Asserted: the gateway never crashes, its
 * RSS stays bounded, clients get 429 (backpressure) instead of silent loss, and after the load stops
 * every acknowledged request arrives (memory queues: exactly once; durable storage: at least once).
 * Run: `npm run test:overload` (in CI once, on Node 20; not part of `npm test`: it takes minutes).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { cli, LISTENING } from '../support/child-run.js';
import { startReceiver } from '../support/receiver.js';
import type { Receiver } from '../support/receiver.js';
import { bin, metricsRequest } from '../gateway/harness.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 60);
const RATE = 1000;
const RSS_LIMIT_MIB = 160;

const test = suite('soak: overload at 10× the sustainable rate');

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

function servicesOf(r: Receiver): string[] {
  return r.requests.flatMap((q) =>
    (q.message as { resourceMetrics: { resource?: { attributes: { value?: { value: { value: unknown } } }[] } }[] }).resourceMetrics.map((rm) =>
      String(rm.resource?.attributes[0]?.value?.value.value),
    ),
  );
}

async function overload(storage: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-soak-'));
  const up = await startReceiver({ grpc: false, respond: () => ({ kind: 'ok', delayMs: 10 }) });
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    [
      'limits: { maxRequestBytes: 64KiB, maxQueuedBytes: 256KiB, retryAfter: 1s }',
      ...(storage ? [`storage: { directory: ${join(dir, 'queue')}, maxBytes: 512KiB, segmentBytes: 32KiB }`] : []),
      'upstreams:',
      `  slow: { endpoint: "${up.httpUrl}", maxConcurrency: 1, batch: { maxBytes: 0 }, queue: { maxBytes: 256KiB } }`,
      'observe: { verbosity: basic }',
    ].join('\n'),
  );
  const run = cli(['gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--config', config]);
  const pool = { current: undefined as Pool | undefined };
  try {
    const m = await run.line(LISTENING);
    const pid = Number(m[3]);
    pool.current = new Pool(`http://${m[2]}`, { connections: 64 });
    const acked = new Set<string>();
    let refused = 0;
    let errors = 0;
    let sent = 0;
    let rssMax = 0;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMiB(pid))), 100);
    const bodies = new Map<number, Uint8Array>();
    const one = async (i: number): Promise<void> => {
      const id = `r${i}`;
      const body = bin.metrics(metricsRequest([id], 20));
      bodies.set(i, body);
      try {
        const res = await pool.current!.request({ path: '/v1/metrics', method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
        await res.body.dump();
        if (res.statusCode === 200) acked.add(id);
        else if (res.statusCode === 429) refused++;
        else errors++;
      } catch {
        errors++;
      } finally {
        bodies.delete(i);
      }
    };
    // Open loop: requests leave on schedule whatever the answers do (1 ms ticks, bounded bursts).
    const pending = new Set<Promise<void>>();
    const start = performance.now();
    while (performance.now() - start < SECONDS * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * RATE);
      for (let k = 0; sent < due && k < 50; k++) {
        const p = one(sent++);
        pending.add(p);
        void p.then(() => pending.delete(p));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    const deliveredDuringLoad = new Set(servicesOf(up)).size;
    // Everything acknowledged arrives once the load stops.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const got = new Set(servicesOf(up));
      if ([...acked].every((id) => got.has(id))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    clearInterval(sampler);
    const received = servicesOf(up);
    const got = new Set(received);
    const missing = [...acked].filter((id) => !got.has(id));
    const sustainable = deliveredDuringLoad / SECONDS;
    console.log(
      `  ${storage ? 'durable storage' : 'memory queues'}: ${sent} sent in ${SECONDS} s (${(sent / SECONDS).toFixed(0)}/s, ${(sent / SECONDS / sustainable).toFixed(1)}× the ${sustainable.toFixed(0)}/s delivered), ` +
        `${acked.size} acknowledged, ${refused} refused 429, ${errors} other; ${received.length - got.size} duplicates; gateway RSS max ${rssMax.toFixed(1)} MiB`,
    );
    assert.equal(missing.length, 0, `${missing.length} acknowledged requests never arrived`);
    assert.is(errors, 0, 'no answer other than 200 and 429');
    assert.ok(refused > sent / 2, 'most of the overload was refused with backpressure');
    assert.ok(sent / SECONDS / sustainable >= 8, 'the load was about ten times what the upstream takes');
    if (!storage) assert.is(received.length, got.size, 'memory queues deliver exactly once');
    assert.ok(rssMax <= RSS_LIMIT_MIB, `RSS ${rssMax.toFixed(1)} MiB ≤ ${RSS_LIMIT_MIB} MiB`);
    run.child.kill('SIGTERM');
    assert.is(await run.exit(30_000), 0, 'still alive after the overload, then a clean stop');
  } finally {
    await pool.current?.close();
    run.child.kill('SIGKILL');
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`memory queues: ${SECONDS} s at ${RATE} requests/s`, () => overload(false));
test(`durable storage: ${SECONDS} s at ${RATE} requests/s`, () => overload(true));

test.run();
