/**
 * The OpAMP agent's health (src/gateway/opamp-agent.ts) against a fake gateway view, an injected
 * clock and the test OpAMP server: a step table of upstream states → what the server holds, with
 * status times that move only when a status does, so an unchanged health is never sent again.
 * The agent with a real gateway: opamp.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ComponentHealth } from '../../gen/opamp/v1/opamp_pb.js';
import { loadGatewayConfig } from '../../src/gateway/config/load.js';
import type { Upstream } from '../../src/gateway/forward/upstream.js';
import type { ReloadResult } from '../../src/gateway/observe/events.js';
import { startOpampAgent } from '../../src/gateway/opamp-agent.js';
import type { AgentGatewayView } from '../../src/gateway/opamp-agent.js';
import { messagesOf, startOpampServer } from '../support/opamp-server.js';

const test = suite('gateway/opamp-agent');
const MS = 1_000_000n;

function fakeUpstream(name: string): Upstream & { backend: { failing: boolean; lastError: string | undefined } } {
  return { name, backend: { failing: false, lastError: undefined } } as unknown as Upstream & {
    backend: { failing: boolean; lastError: string | undefined };
  };
}

test('health: a step table of upstream states, receivers, times that move with the status only', async () => {
  const server = await startOpampServer();
  let clock = 1_000;
  const main = fakeUpstream('main');
  const view = {
    config: loadGatewayConfig({ document: { opamp: { endpoint: server.httpUrl } }, env: {} }),
    addresses: { grpc: '127.0.0.1:4317', http: undefined as string | undefined },
    upstreams: [main] as Upstream[],
  };
  const reload = (): Promise<ReloadResult> => Promise.reject(new Error('not in this test'));
  // A poll period longer than the test: every change below is announced through reloaded().
  const agent = (await startOpampAgent({ gateway: view as AgentGatewayView, reload, remoteConfig: {}, now: () => clock, pollMillis: 60_000 }))!;
  const uid = agent.status().instanceUid;
  const latest = (): ComponentHealth | undefined => server.agents.get(uid.replaceAll('-', ''))?.health;
  const unchanged = { outcome: 'unchanged' } as ReloadResult;
  try {
    await server.until(() => latest() !== undefined, 5000, 'the first report');
    const first = latest()!;
    assert.is(first.startTimeUnixNano, 1_000n * MS);
    assert.equal(Object.keys(first.componentHealthMap['receivers']!.componentHealthMap), ['grpc']);

    const steps: ReadonlyArray<{
      at: number;
      set: () => void;
      healthy: boolean;
      status: string;
      lastError: string;
      statusAt: number;
      sent: boolean;
    }> = [
      { at: 2_000, set: () => {}, healthy: true, status: 'forwarding', lastError: '', statusAt: 1_000, sent: false },
      {
        at: 3_000,
        set: () => Object.assign(main.backend, { failing: true, lastError: 'HTTP 503' }),
        healthy: false,
        status: 'failing',
        lastError: 'HTTP 503',
        statusAt: 3_000,
        sent: true,
      },
      // Another error while still failing: sent, the status time stays.
      {
        at: 4_000,
        set: () => (main.backend.lastError = 'connect ECONNREFUSED'),
        healthy: false,
        status: 'failing',
        lastError: 'connect ECONNREFUSED',
        statusAt: 3_000,
        sent: true,
      },
      { at: 5_000, set: () => {}, healthy: false, status: 'failing', lastError: 'connect ECONNREFUSED', statusAt: 3_000, sent: false },
      {
        at: 6_000,
        set: () => Object.assign(main.backend, { failing: false, lastError: undefined }),
        healthy: true,
        status: 'forwarding',
        lastError: '',
        statusAt: 6_000,
        sent: true,
      },
    ];
    for (const s of steps) {
      const before = server.seen.length;
      clock = s.at;
      s.set();
      agent.reloaded(unchanged);
      if (s.sent) await server.until(() => server.seen.length > before, 5000, `a message at ${s.at}`);
      else await new Promise((r) => setTimeout(r, 50));
      const h = latest()!.componentHealthMap['upstreams']!.componentHealthMap['main']!;
      const what = `at ${s.at}`;
      assert.is(h.healthy, s.healthy, what);
      assert.is(h.status, s.status, what);
      assert.is(h.lastError, s.lastError, what);
      assert.is(h.statusTimeUnixNano, BigInt(s.statusAt) * MS, what);
      assert.is(h.startTimeUnixNano, 1_000n * MS, what);
      assert.is(latest()!.healthy, s.healthy, `${what}: rolled up`);
      if (!s.sent) assert.is(server.seen.length, before, `${what}: nothing changed, nothing sent`);
    }

    // A receiver started by a reload, and an upstream added: new components with their own start times.
    clock = 7_000;
    view.addresses = { grpc: '127.0.0.1:4317', http: '127.0.0.1:4318' };
    view.upstreams = [main, fakeUpstream('extra')];
    const before = server.seen.length;
    agent.reloaded(unchanged);
    await server.until(() => server.seen.length > before, 5000, 'the new components');
    const h = latest()!;
    assert.is(h.componentHealthMap['receivers']!.componentHealthMap['http']!.startTimeUnixNano, 7_000n * MS);
    assert.is(h.componentHealthMap['upstreams']!.componentHealthMap['extra']!.startTimeUnixNano, 7_000n * MS);
    assert.is(h.componentHealthMap['upstreams']!.status, '2 configured');
    assert.ok(messagesOf(server, uid).every((m) => m.health === undefined || m.health.componentHealthMap['upstreams'] !== undefined));
  } finally {
    await agent.stop(1000);
    await server.stop();
  }
});

test.run();
