/**
 * The promise of durable storage, with real processes and real signals: the gateway (the CLI,
 * `--storage`) is killed with SIGKILL 20 times under load while its upstream flaps; after the last
 * start every request it acknowledged arrives at the upstream, at least once. Repeats are counted
 * and bounded by what can be in flight at a kill (one delivery of at most batch.maxBytes, plus the
 * one whose cursor was not written yet).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, LISTENING } from '../support/child-run.js';
import type { Run } from '../support/child-run.js';
import { startReceiver } from '../support/receiver.js';
import type { Receiver } from '../support/receiver.js';
import { bin, metricsRequest, PROTOBUF } from './harness.js';

const KILLS = 20;
const CLIENTS = 4;
const BATCH_BYTES = 16 * 1024;

const test = suite('gateway: durable storage across kill -9');

function servicesOf(r: Receiver): string[] {
  return r.requests.flatMap((q) =>
    (q.message as { resourceMetrics: { resource?: { attributes: { key: string; value?: { value: { value: unknown } } }[] } }[] }).resourceMetrics.map(
      (rm) => String(rm.resource?.attributes.find((a) => a.key === 'service.name')?.value?.value.value),
    ),
  );
}

test(`every acknowledged request arrives after ${KILLS} kill -9 under load with a flapping upstream`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-kill-'));
  // Flaps every 150 ms between answering 503 and accepting.
  const started = Date.now();
  let flapping = true;
  const up = await startReceiver({
    grpc: false,
    respond: () =>
      flapping && Math.floor((Date.now() - started) / 150) % 2 === 0 ? { kind: 'error', httpStatus: 503, message: 'flap' } : { kind: 'ok' },
  });
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    [
      'receivers: { http: { address: 127.0.0.1:0 } }',
      `storage: { directory: ${join(dir, 'queue')}, maxBytes: 64MiB, segmentBytes: 256KiB }`,
      'limits: { maxRequestBytes: 1MiB }',
      'upstreams:',
      `  up: { endpoint: "${up.httpUrl}", maxConcurrency: 1, batch: { maxBytes: ${BATCH_BYTES} }, retry: { initialBackoff: 20ms, maxBackoff: 60ms } }`,
      'observe: { verbosity: basic }',
    ].join('\n'),
  );

  const acked = new Set<string>();
  let url = '';
  let next = 0;
  let loading = true;
  let sent = 0;
  const client = async (): Promise<void> => {
    while (loading) {
      if (url === '') {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const id = `r${next++}`;
      sent++;
      try {
        const res = await fetch(`${url}/v1/metrics`, {
          method: 'POST',
          headers: PROTOBUF,
          body: bin.metrics(metricsRequest([id], 20)),
          signal: AbortSignal.timeout(2000),
        });
        await res.arrayBuffer();
        if (res.status === 200) acked.add(id);
      } catch {
        // The gateway died mid-request: not acknowledged, the client would resend.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);

  const start = async (): Promise<Run> => {
    const run = cli(['gateway', '--grpc', 'off', '--config', config]);
    const m = await run.line(LISTENING);
    url = `http://${m[2]}`;
    return run;
  };
  try {
    for (let k = 0; k < KILLS; k++) {
      const run = await start();
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 250)));
      url = '';
      run.child.kill('SIGKILL');
      assert.is(await run.exit(10_000), null, 'killed by the signal');
    }
    const last = await start();
    // Load a little longer, then let it deliver with a steady upstream.
    await new Promise((r) => setTimeout(r, 300));
    loading = false;
    await Promise.all(clients);
    flapping = false;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const got = new Set(servicesOf(up));
      if ([...acked].every((id) => got.has(id))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const received = servicesOf(up);
    const got = new Set(received);
    const missing = [...acked].filter((id) => !got.has(id));
    assert.equal(missing, [], `${missing.length} of ${acked.size} acknowledged requests missing`);
    const duplicates = received.length - got.size;
    // At a kill: one delivery in flight (≤ batch.maxBytes) and one delivered whose cursor was not
    // written yet; a request is ~500 bytes, so at most 2 × 16 KiB / 500 B ≈ 66 repeats per kill.
    const perKill = Math.ceil((2 * BATCH_BYTES) / 480);
    console.log(`  ${acked.size} acknowledged of ${sent} sent; ${received.length} received, ${duplicates} duplicates over ${KILLS} kills`);
    assert.ok(duplicates <= KILLS * perKill, `${duplicates} duplicates, bound ${KILLS * perKill}`);
    assert.ok(acked.size > KILLS * 5, `load reached the gateway (${acked.size} acknowledged)`);
    last.child.kill('SIGTERM');
    assert.is(await last.exit(15_000), 0, 'a clean stop: nothing lost');
  } finally {
    loading = false;
    url = '';
    await Promise.all(clients);
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
