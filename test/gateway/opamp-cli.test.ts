/**
 * `otlp-fanout gateway --opamp URL` as a real child process, over WebSocket end to end: it reports,
 * takes a remote config (printed like any reload; data flows to the upstream it adds), says goodbye
 * (agent_disconnect) on SIGTERM and exits 0; restarted with the server down, it is the same agent and
 * starts on the stored remote config. A bad `--opamp` exits 2 naming it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RemoteConfigStatuses } from '../../gen/opamp/v1/opamp_pb.js';
import { cli, LISTENING } from '../support/child-run.js';
import { startOpampServer } from '../support/opamp-server.js';
import { startReceiver } from '../support/receiver.js';
import { bin, metricsRequest, post, PROTOBUF } from './harness.js';

const test = suite('gateway/opamp-cli');
const OPAMP_LINE = /OpAMP: reporting to (\S+) as instance ([0-9a-f-]{36})/;

test('a bad --opamp exits 2 naming the flag', async () => {
  const run = cli(['gateway', '--opamp', 'grpc://127.0.0.1:4320']);
  assert.is(await run.exit(), 2);
  assert.match(
    run.stderr(),
    /invalid gateway config at --opamp: "grpc:\/\/127\.0\.0\.1:4320": expected an http:\/\/, https:\/\/, ws:\/\/ or wss:\/\/ URL/,
  );
});

test('--opamp ws://: reports, applies a remote config, says goodbye on SIGTERM; a restart without the server comes back with it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-opamp-cli-'));
  const server = await startOpampServer();
  const main = await startReceiver({ grpc: false });
  const extra = await startReceiver({ grpc: false });
  const args = ['gateway', '--grpc', 'off', '--http', '127.0.0.1:0', '--forward', main.httpUrl, '--storage', dir, '--opamp', server.wsUrl];
  const send = async (http: string, service: string): Promise<number> => {
    const res = await post(`http://${http}/v1/metrics`, bin.metrics(metricsRequest([service])), PROTOBUF);
    await res.arrayBuffer();
    return res.status;
  };
  const yaml = `upstreams:\n  extra: { endpoint: "${extra.httpUrl}" }\n`;
  const hash = new Uint8Array(createHash('sha256').update(yaml).digest());
  const first = cli(args);
  try {
    const [, , http] = await first.line(LISTENING);
    const [, endpoint, uid] = await first.line(OPAMP_LINE);
    assert.is(endpoint, server.wsUrl);
    const key = uid!.replaceAll('-', '');
    await server.until(() => server.agents.get(key)?.health !== undefined, 10_000, 'the first report');
    assert.ok(
      server.seen.every((s) => s.transport === 'websocket'),
      'over the WebSocket',
    );
    server.offer({ config: { configMap: { '': { body: new TextEncoder().encode(yaml), contentType: 'text/yaml' } } }, configHash: hash });
    await server.until(() => server.agents.get(key)?.remoteConfigStatus?.status === RemoteConfigStatuses.APPLIED, 10_000, 'APPLIED');
    await first.line(/reload \(opamp, remote config [0-9a-f]{12}\) applied in \d+ ms: upstreams \+extra\n/);
    // The flags win over a remote config as over the file: --forward's upstream stays.
    assert.is(await send(http!, 'both'), 200);
    await extra.waitFor((q) => q.signal === 'metrics', 5000);
    await main.waitFor((q) => q.signal === 'metrics', 5000);
    first.child.kill('SIGTERM');
    assert.is(await first.exit(), 0);
    assert.ok(server.agents.get(key)!.disconnected, 'agent_disconnect before exiting');

    await server.stop();
    extra.clear();
    const second = cli(args);
    try {
      const [, , http2] = await second.line(LISTENING);
      const [, , uid2] = await second.line(OPAMP_LINE);
      assert.is(uid2, uid, 'the same agent');
      await second.line(/forwarding to: .*\n/);
      assert.match(second.stdout(), `forwarding to: ${extra.httpUrl}, ${main.httpUrl}`); // the document's first, then --forward's
      assert.match(second.stdout(), /reload \(opamp, remote config [0-9a-f]{12}\) unchanged/);
      assert.is(await send(http2!, 'again'), 200);
      await extra.waitFor((q) => q.signal === 'metrics', 5000);
      second.child.kill('SIGTERM');
      assert.is(await second.exit(), 0);
    } finally {
      second.child.kill('SIGKILL');
    }
  } finally {
    first.child.kill('SIGKILL');
    await Promise.all([main.close(), extra.close(), server.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
