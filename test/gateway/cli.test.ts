/**
 * The CLI as a real child process: port 0 and the parseable listening line, forwarding,
 * graceful shutdown on SIGTERM (exit 0, drained, report printed), what an undeliverable
 * drain reports (exit 3), exit code 2 naming the key for configuration errors, and `--watch`.
 * Signals beyond the first SIGTERM (SIGHUP's reload included), and `npm start`: lifecycle.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cli, LISTENING } from '../support/child-run.js';
import { ofSignal, startReceiver } from '../support/receiver.js';
import { bin, metricsRequest, post, PROTOBUF } from './harness.js';

const test = suite('gateway/cli');

test('--help exits 0; configuration and usage errors exit 2 naming the key, before listening', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-cli-'));
  try {
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, 'upstreams:\n  main:\n    endpoint: http://127.0.0.1:1\n    compresion: gzip\n');
    // Every other key path is covered in config.test.ts; these check the exit code and stderr.
    const cases: Array<[string[], RegExp]> = [
      [['gateway', '--config', file], /at upstreams\.main\.compresion: unknown key/],
      [['gateway', '--forward', 'ftp://x:1', '--verbose'], /Unknown option '--verbose'/],
      [['gateway', '--watch'], /--watch needs --config FILE/],
    ];
    const help = cli(['gateway', '--help']);
    const runs = cases.map(([args]) => cli(args));
    assert.is(await help.exit(), 0);
    assert.match(help.stdout(), '--forward URL');
    assert.match(help.stdout(), '?encoding=json');
    for (let i = 0; i < cases.length; i++) {
      const run = runs[i]!;
      assert.is(await run.exit(), 2, cases[i]![0].join(' '));
      assert.match(run.stderr(), cases[i]![1]);
      assert.not.match(run.stdout(), 'listening');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('port 0: prints the bound addresses, forwards, a second instance cannot bind (exit 1), SIGTERM drains and exits 0', async () => {
  const upstream = await startReceiver({ grpc: false });
  const run = cli(['gateway', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--forward', upstream.httpUrl, '--verbosity', 'basic']);
  try {
    const [, grpc, http] = await run.line(LISTENING);
    assert.match(grpc!, /^127\.0\.0\.1:\d+$/);
    assert.not.match(grpc!, /:0$/);
    // The hint lines follow the listening line; wait for the last of them before reading stdout.
    await run.line(/forwarding to: /);
    assert.match(run.stdout(), `OTEL_EXPORTER_OTLP_ENDPOINT=http://${http}`);
    assert.match(run.stdout(), `forwarding to: ${upstream.httpUrl}`);
    // A second gateway on the same address cannot start: exit 1 with the reason.
    const second = cli(['gateway', '--grpc', 'off', '--http', http!]);
    const body = bin.metrics(metricsRequest(['cli'], 4));
    const res = await post(`http://${http}/v1/metrics`, body, PROTOBUF);
    assert.is(res.status, 200);
    const got = await upstream.waitFor(ofSignal('metrics'), 3000);
    assert.ok(Buffer.from(got.bytes).equals(Buffer.from(body)));
    assert.is(await second.exit(), 1);
    assert.match(second.stderr(), 'EADDRINUSE');
    run.child.kill('SIGTERM');
    assert.is(await run.exit(), 0);
    assert.match(run.stdout(), 'SIGTERM, draining');
    assert.match(run.stdout(), /stopped after \d+ ms: everything queued was delivered/);
  } finally {
    run.child.kill('SIGKILL');
    await upstream.close();
  }
});

test('SIGTERM with a stalled upstream: drains until the deadline, reports what was not delivered, exits 3 (acknowledged data lost)', async () => {
  const upstream = await startReceiver({ grpc: false, respond: () => ({ kind: 'stall' }) });
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-cli-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, `drainTimeout: 300ms\nupstreams:\n  stuck:\n    endpoint: \${UPSTREAM}\n    maxConcurrency: 1\n`);
  const run = cli(['gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--config', file], { UPSTREAM: upstream.httpUrl });
  try {
    const [, grpc, http] = await run.line(LISTENING);
    assert.is(grpc, 'off');
    for (let i = 0; i < 3; i++) {
      const res = await post(`http://${http}/v1/metrics`, bin.metrics(metricsRequest(['s'], 2)), PROTOBUF);
      assert.is(res.status, 200);
    }
    await upstream.waitFor(ofSignal('metrics'), 3000);
    const started = Date.now();
    run.child.kill('SIGTERM');
    assert.is(await run.exit(), 3);
    assert.ok(Date.now() - started < 4000);
    assert.match(run.stdout(), 'draining for up to 300 ms');
    assert.match(run.stdout(), 'could not deliver everything before the deadline');
    assert.match(run.stdout(), 'upstream stuck: 3 requests, 6 items undelivered');
    assert.match(run.stdout(), 'exit 3: acknowledged data was lost');
  } finally {
    run.child.kill('SIGKILL');
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--watch: an editor's rename-replace save is reloaded, a file briefly missing is waited for, a moved receiver prints the listening line again", async () => {
  const [one, two] = await Promise.all([startReceiver({ grpc: false }), startReceiver({ grpc: false })]);
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-watch-'));
  const file = path.join(dir, 'gateway.yaml');
  const save = (text: string): void => {
    // As vim and most editors save: a new file renamed over the old one.
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  const receivers = (port: number) => `receivers:\n  grpc: false\n  http: { address: 127.0.0.1:${port} }\n`;
  writeFileSync(file, `${receivers(0)}upstreams:\n  one: { endpoint: "${one.httpUrl}" }\n`);
  const run = cli(['gateway', '--config', file, '--watch', '--verbosity', 'basic']);
  try {
    const [, , http] = await run.line(LISTENING);
    save(`${receivers(0)}upstreams:\n  one: { endpoint: "${one.httpUrl}" }\n  two: { endpoint: "${two.httpUrl}" }\n`);
    await run.line(/reload \(watch, \S+\) applied in \d+ ms: upstreams \+two\n/, 5000);
    const res = await post(`http://${http}/v1/metrics`, bin.metrics(metricsRequest(['watched'], 1)), PROTOBUF);
    assert.is(res.status, 200);
    await two.waitFor(ofSignal('metrics'), 3000);

    // Deleted, then written again a little later: no reload of a missing file, one of the new contents.
    const port = await freePort();
    rmSync(file);
    await new Promise((r) => setTimeout(r, 400));
    writeFileSync(file, `${receivers(port)}upstreams:\n  two: { endpoint: "${two.httpUrl}" }\n`);
    const [, moved] = await run.line(new RegExp(`listening grpc=off http=(127\\.0\\.0\\.1:${port}) pid=`), 5000);
    assert.match(run.stdout(), `http receiver rebound on 127.0.0.1:${port}`);
    assert.not.match(run.stdout(), 'rejected');
    assert.is((await post(`http://${moved}/v1/metrics`, bin.metrics(metricsRequest(['moved'], 1)), PROTOBUF)).status, 200);
    run.child.kill('SIGTERM');
    assert.is(await run.exit(), 0);
  } finally {
    run.child.kill('SIGKILL');
    await Promise.all([one.close(), two.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test.run();
