/**
 * The OpAMP client against a real loopback OpAMP server (test/support/opamp-server.ts), over both
 * transports: what the first message carries, sequence numbers, status compression and no reply
 * loop, ReportFullState, heartbeats, remote config (APPLYING → APPLIED or FAILED, once per hash,
 * stored and applied again on restart without the server), server outages and throttling, the new
 * instance UID a server may assign, and the goodbye. Transport specifics (gzip, Retry-After, TLS,
 * WebSocket framing and reconnection) are in http-transport.test.ts and websocket-transport.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AgentCapabilities, RemoteConfigStatuses, ServerToAgentFlags } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentToServer } from '../../gen/opamp/v1/opamp_pb.js';
import type { AnyValue } from '../../gen/opamp/v1/anyvalue_pb.js';
import { createOpampClient } from '../../src/opamp/client.js';
import type { OpampClient } from '../../src/opamp/client.js';
import type { ComponentHealthReport } from '../../src/opamp/health.js';
import { formatUuid, INSTANCE_UID_FILE, uuidV7 } from '../../src/opamp/instance-uid.js';
import type { OpampClientOptions } from '../../src/opamp/options.js';
import type { RemoteConfigDocument, RemoteConfigResult } from '../../src/opamp/remote-config.js';
import { REMOTE_CONFIG_FILE } from '../../src/opamp/remote-config.js';
import { packageVersion } from '../../src/internal/package-version.js';
import { messagesOf, startOpampServer } from '../support/opamp-server.js';
import type { OpampTestServer } from '../support/opamp-server.js';

const ALL_SIX =
  AgentCapabilities.REPORTS_STATUS |
  AgentCapabilities.ACCEPTS_REMOTE_CONFIG |
  AgentCapabilities.REPORTS_EFFECTIVE_CONFIG |
  AgentCapabilities.REPORTS_REMOTE_CONFIG |
  AgentCapabilities.REPORTS_HEALTH |
  AgentCapabilities.REPORTS_HEARTBEAT;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const yamlOffer = (body: string, hash: number[]) => ({
  config: { configMap: { '': { body: utf8(body), contentType: 'text/yaml' } } },
  configHash: new Uint8Array(hash),
});
const text = (v: AnyValue | undefined): unknown => v?.value.value;
const isFull = (m: AgentToServer): boolean =>
  m.agentDescription !== undefined && m.health !== undefined && m.effectiveConfig !== undefined && m.remoteConfigStatus !== undefined;

/** One agent under test: its mutable state, what it applied, and the client. */
interface Agent {
  readonly client: OpampClient;
  readonly uid: Uint8Array;
  readonly applied: RemoteConfigDocument[];
  health: ComponentHealthReport;
  yaml: string;
  apply: (doc: RemoteConfigDocument) => Promise<RemoteConfigResult>;
  messages(): AgentToServer[];
}

for (const transport of ['http', 'websocket'] as const) {
  const test = suite(`opamp/client over ${transport}`);
  let server: OpampTestServer;
  let dir: string;
  const clients: OpampClient[] = [];

  test.before.each(async () => {
    server = await startOpampServer();
    dir = mkdtempSync(path.join(tmpdir(), 'opamp-client-'));
  });
  test.after.each(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function agent(options: Partial<OpampClientOptions> = {}): Agent {
    const uid = options.instanceUid ?? uuidV7();
    const a: Agent = {
      uid,
      applied: [],
      health: { status: 'running', startTimeUnixNano: 1n, components: { upstreams: { components: { main: { status: 'ok' } } } } },
      yaml: 'upstreams: {}\n',
      apply: async () => ({ applied: true }),
      messages: () => messagesOf(server, uid),
      client: undefined as unknown as OpampClient,
    };
    const client = createOpampClient({
      endpoint: transport === 'http' ? server.httpUrl : server.wsUrl,
      pollingIntervalMillis: 60_000,
      retry: { initialBackoffMillis: 50, maxBackoffMillis: 200 },
      timeoutMillis: 2000,
      instanceUid: uid,
      health: () => a.health,
      effectiveConfig: () => a.yaml,
      onRemoteConfig: (doc) => {
        a.applied.push(doc);
        return a.apply(doc);
      },
      ...options,
    });
    (a as { client: OpampClient }).client = client;
    clients.push(client);
    return a;
  }

  test('the first message carries the full state: description, capabilities, health, effective config, remote config status', async () => {
    const a = agent({ description: { attributes: { 'deployment.environment.name': 'prod' } } });
    await a.client.start();
    await server.until(() => a.messages().length >= 1);
    const [first] = a.messages();
    assert.is(first!.sequenceNum, 1n);
    assert.is(first!.capabilities, BigInt(ALL_SIX));
    assert.ok(isFull(first!));
    const id = Object.fromEntries(first!.agentDescription!.identifyingAttributes.map((kv) => [kv.key, text(kv.value)]));
    assert.equal(id, { 'service.name': 'otlp-fanout-gateway', 'service.version': packageVersion(), 'service.instance.id': formatUuid(a.uid) });
    const other = Object.fromEntries(first!.agentDescription!.nonIdentifyingAttributes.map((kv) => [kv.key, text(kv.value)]));
    assert.equal(Object.keys(other), ['host.name', 'os.type', 'deployment.environment.name']);
    assert.is(first!.health!.healthy, true);
    assert.is(first!.health!.componentHealthMap['upstreams']!.componentHealthMap['main']!.status, 'ok');
    const file = first!.effectiveConfig!.configMap!.configMap[''];
    assert.is(new TextDecoder().decode(file!.body), 'upstreams: {}\n');
    assert.is(file!.contentType, 'text/yaml');
    assert.is(first!.remoteConfigStatus!.status, RemoteConfigStatuses.UNSET);
    assert.is(server.seen[0]!.headers['opamp-instance-uid'], formatUuid(a.uid));
    await server.until(() => a.client.status().connected, 2000, 'connected');
    assert.is(a.client.status().lastError, undefined);
  });

  test('a client without callbacks claims only ReportsStatus and ReportsHeartbeat, and sends no status parts', async () => {
    const uid = uuidV7();
    const client = createOpampClient({ endpoint: transport === 'http' ? server.httpUrl : server.wsUrl, instanceUid: uid });
    clients.push(client);
    await client.start();
    await server.until(() => messagesOf(server, uid).length >= 1);
    const [m] = messagesOf(server, uid);
    assert.is(m!.capabilities, BigInt(AgentCapabilities.REPORTS_STATUS | AgentCapabilities.REPORTS_HEARTBEAT));
    assert.ok(m!.agentDescription !== undefined);
    assert.is(m!.health, undefined);
    assert.is(m!.effectiveConfig, undefined);
    assert.is(m!.remoteConfigStatus, undefined);
  });

  test('no reply loop: a server that answers every message, even with an already applied config, gets no more messages', async () => {
    const a = agent();
    const offer = yamlOffer('a: 1\n', [1]);
    // A server that repeats its offer in every answer, whatever the agent reports.
    server.respond(() => ({ kind: 'message', message: { remoteConfig: offer } }));
    await a.client.start();
    await server.until(
      () =>
        a.client.status().remoteConfig.state === 'applied' && a.messages().some((m) => m.remoteConfigStatus?.status === RemoteConfigStatuses.APPLIED),
    );
    const settled = a.messages().length;
    await sleep(400);
    assert.is(a.messages().length, settled, 'messages over a 400 ms window');
    assert.is(a.applied.length, 1, 'applied once');
  });

  test('status compression: an unchanged report is not sent; a changed part goes alone; sequence numbers count every message', async () => {
    const a = agent();
    await a.client.start();
    await server.until(() => a.messages().length >= 1);
    a.client.healthChanged(); // nothing changed
    a.client.effectiveConfigChanged(); // nothing changed
    await sleep(200);
    assert.is(a.messages().length, 1);
    a.health = { ...a.health, components: { upstreams: { components: { main: { healthy: false, status: 'retrying', lastError: 'HTTP 503' } } } } };
    a.client.healthChanged();
    await server.until(() => a.messages().length >= 2);
    const second = a.messages()[1]!;
    assert.is(second.health!.healthy, false);
    assert.is(second.health!.lastError, 'upstreams: main: HTTP 503');
    assert.is(second.agentDescription, undefined);
    assert.is(second.effectiveConfig, undefined);
    assert.is(second.remoteConfigStatus, undefined);
    a.yaml = 'upstreams: { b: {} }\n';
    a.client.effectiveConfigChanged();
    a.client.healthChanged(); // same turn, health unchanged since: one message, effective config only
    await server.until(() => a.messages().length >= 3);
    await sleep(100);
    assert.is(a.messages().length, 3);
    const third = a.messages()[2]!;
    assert.ok(third.effectiveConfig !== undefined && third.health === undefined);
    assert.equal(
      a.messages().map((m) => m.sequenceNum),
      [1n, 2n, 3n],
    );
    // The server's merged view is the agent's state.
    const known = [...server.agents.values()][0]!;
    assert.is(known.health!.healthy, false);
    assert.is(new TextDecoder().decode(known.effectiveConfig!.configMap!.configMap['']!.body), 'upstreams: { b: {} }\n');
  });

  test('ReportFullState: the next message carries everything again', async () => {
    const a = agent();
    let ask = false;
    server.respond(() => {
      if (!ask) return { kind: 'message' };
      ask = false;
      return { kind: 'message', message: { flags: BigInt(ServerToAgentFlags.REPORT_FULL_STATE) } };
    });
    await a.client.start();
    await server.until(() => a.messages().length >= 1);
    a.health = { status: 'changed' };
    ask = true;
    a.client.healthChanged();
    await server.until(() => a.messages().length >= 3, 3000, 'a full report after ReportFullState');
    const [, second, third] = a.messages();
    assert.ok(!isFull(second!) && second!.health !== undefined);
    assert.ok(isFull(third!), 'full state');
    assert.is(third!.sequenceNum, 3n);
    await sleep(150);
    assert.is(a.messages().length, 3, 'and then nothing');
  });

  test('a server that lost the agent (sequence gap) asks for the full state and gets it', async () => {
    const a = agent();
    await a.client.start();
    await server.until(() => a.messages().length >= 1);
    server.agents.clear(); // the server restarted and forgot everything
    a.health = { status: 'changed' };
    a.client.healthChanged();
    await server.until(() => a.messages().length >= 3, 3000, 'full report');
    assert.ok(isFull(a.messages()[2]!));
    assert.ok([...server.agents.values()][0]!.description !== undefined);
  });

  test('heartbeats every pollingIntervalMillis carry only the UID, sequence number and capabilities', async () => {
    const a = agent({ pollingIntervalMillis: 100 });
    await a.client.start();
    await server.until(() => a.messages().length >= 4, 3000, 'heartbeats');
    for (const m of a.messages().slice(1, 4)) {
      assert.ok(m.agentDescription === undefined && m.health === undefined && m.effectiveConfig === undefined && m.remoteConfigStatus === undefined);
      assert.is(m.capabilities, BigInt(ALL_SIX));
      assert.equal([...m.instanceUid], [...a.uid]);
    }
    // Between heartbeats (the first one is counted from the first send, which a WebSocket handshake delays).
    const gaps = server.seen.slice(2, 4).map((s, i) => s.at - server.seen[i + 1]!.at);
    assert.ok(
      gaps.every((g) => g >= 80),
      `gaps ${gaps}`,
    );
  });

  test('change notices that change nothing never postpone the heartbeat', async () => {
    const a = agent({ pollingIntervalMillis: 150 });
    await a.client.start();
    const timer = setInterval(() => a.client.healthChanged(), 10);
    try {
      await server.until(() => a.messages().length >= 4, 3000, 'heartbeats despite change notices');
    } finally {
      clearInterval(timer);
    }
  });

  test('the server may set the heartbeat period (connection_settings.opamp.heartbeat_interval_seconds)', async () => {
    const a = agent({ pollingIntervalMillis: 60_000 });
    let first = true;
    server.respond(() => {
      const message = first ? { connectionSettings: { opamp: { heartbeatIntervalSeconds: 1n } } } : {};
      first = false;
      return { kind: 'message', message };
    });
    await a.client.start();
    await server.until(() => a.messages().length >= 2, 3000, 'a heartbeat after 1 s');
    const gap = server.seen[1]!.at - server.seen[0]!.at;
    assert.ok(gap >= 900 && gap < 2500, `gap ${gap}`);
  });

  test('remote config: APPLYING, then APPLIED with the hash; stored for the next start; the same hash never applied twice', async () => {
    const a = agent({ stateDirectory: dir });
    a.apply = async () => {
      await server.until(() => a.messages().some((m) => m.remoteConfigStatus?.status === RemoteConfigStatuses.APPLYING), 3000, 'APPLYING reported');
      return { applied: true };
    };
    server.offer(yamlOffer('upstreams: { a: { endpoint: "http://127.0.0.1:1" } }\n', [0xaa, 1]));
    await a.client.start();
    await server.until(() => a.messages().some((m) => m.remoteConfigStatus?.status === RemoteConfigStatuses.APPLIED), 3000, 'APPLIED');
    const statuses = a.messages().flatMap((m) => (m.remoteConfigStatus === undefined ? [] : [m.remoteConfigStatus]));
    assert.equal(
      statuses.map((s) => s.status),
      [RemoteConfigStatuses.UNSET, RemoteConfigStatuses.APPLYING, RemoteConfigStatuses.APPLIED],
    );
    assert.equal([...statuses[2]!.lastRemoteConfigHash], [0xaa, 1]);
    assert.is(a.applied.length, 1);
    assert.is(a.applied[0]!.body, 'upstreams: { a: { endpoint: "http://127.0.0.1:1" } }\n');
    assert.is(a.applied[0]!.contentType, 'text/yaml');
    const stored = JSON.parse(readFileSync(path.join(dir, REMOTE_CONFIG_FILE), 'utf8'));
    assert.is(stored.hash, 'aa01');
    assert.equal(a.client.status().remoteConfig, { state: 'applied', hash: new Uint8Array([0xaa, 1]), error: undefined });
    // A new config is applied; offering the applied one again is not.
    server.offer(yamlOffer('b: 2\n', [0xbb]));
    a.client.healthChanged();
    a.health = { status: 'poke' };
    a.client.healthChanged();
    await server.until(() => a.applied.length === 2 && a.client.status().remoteConfig.state === 'applied', 3000, 'second config');
    server.offer(yamlOffer('b: 2\n', [0xbb]));
    server.push({ remoteConfig: yamlOffer('b: 2\n', [0xbb]) });
    a.health = { status: 'poke again' };
    a.client.healthChanged();
    await sleep(200);
    assert.is(a.applied.length, 2);
  });

  test('remote config refused by the agent: FAILED with its error, the stored config left alone', async () => {
    const a = agent({ stateDirectory: dir });
    a.apply = async () => ({ applied: false, error: 'upstreams.x.endpoint: expected a URL, got "nope"' });
    server.offer(yamlOffer('upstreams: { x: { endpoint: nope } }\n', [3]));
    await a.client.start();
    await server.until(() => a.messages().some((m) => m.remoteConfigStatus?.status === RemoteConfigStatuses.FAILED), 3000, 'FAILED');
    const failed = a.messages().find((m) => m.remoteConfigStatus?.status === RemoteConfigStatuses.FAILED)!.remoteConfigStatus!;
    assert.is(failed.errorMessage, 'upstreams.x.endpoint: expected a URL, got "nope"');
    assert.equal([...failed.lastRemoteConfigHash], [3]);
    assert.is(a.client.status().remoteConfig.state, 'failed');
    assert.throws(() => readFileSync(path.join(dir, REMOTE_CONFIG_FILE)));
    await sleep(150);
    assert.is(a.applied.length, 1, 'a failed hash is not retried either');
  });

  test('remote config: a throwing callback and an offer without YAML are FAILED too', async () => {
    const a = agent();
    a.apply = async () => {
      throw new Error('reload exploded');
    };
    server.offer(yamlOffer('a: 1\n', [4]));
    await a.client.start();
    await server.until(() => a.client.status().remoteConfig.error === 'reload exploded', 3000, 'FAILED from a throw');
    server.offer({ config: { configMap: { 'c.json': { body: utf8('{}'), contentType: 'application/json' } } }, configHash: new Uint8Array([5]) });
    a.health = { status: 'poke' };
    a.client.healthChanged();
    await server.until(
      () => a.messages().some((m) => m.remoteConfigStatus?.errorMessage.includes('expected one file with content type') === true),
      3000,
      'FAILED: no YAML',
    );
    assert.is(a.applied.length, 1, 'the callback never saw the JSON offer');
  });

  test('restart: the stored config is applied before anything is sent, even with the server down; the server is not asked again', async () => {
    const first = agent({ stateDirectory: dir });
    server.offer(yamlOffer('stored: true\n', [9, 9]));
    await first.client.start();
    await server.until(() => first.client.status().remoteConfig.state === 'applied', 3000, 'applied');
    await first.client.stop();
    await server.stop();
    const second = agent({ stateDirectory: dir });
    await second.client.start();
    assert.is(second.applied.length, 1, 'applied during start()');
    assert.is(second.applied[0]!.body, 'stored: true\n');
    assert.equal(second.client.status().remoteConfig, { state: 'applied', hash: new Uint8Array([9, 9]), error: undefined });
    await sleep(100);
    assert.ok(second.client.status().lastError !== undefined, 'the server is down');
    await server.start();
    await server.until(() => second.messages().length >= 1, 3000, 'the server up again');
    const m = second.messages()[0]!;
    assert.is(m.remoteConfigStatus!.status, RemoteConfigStatuses.APPLIED);
    assert.equal([...m.remoteConfigStatus!.lastRemoteConfigHash], [9, 9]);
    await sleep(150);
    assert.is(second.applied.length, 1, 'the same offer is not applied again');
  });

  test('server down, then up: retries with backoff and comes back with the full state within a bounded time', async () => {
    const a = agent();
    await a.client.start();
    await server.until(() => a.client.status().connected, 2000, 'connected');
    await server.stop();
    a.health = { status: 'changed while down' };
    a.client.healthChanged();
    await server.until(() => !a.client.status().connected && a.client.status().lastError !== undefined, 3000, 'the outage noticed');
    const before = a.messages().length;
    await sleep(300); // a few failed attempts (backoff 50 → 200 ms)
    await server.start();
    const up = performance.now();
    await server.until(() => a.messages().length > before, 3000, 'reconnected');
    assert.ok(performance.now() - up < 1000, 'within the backoff cap and some slack');
    const back = a.messages()[before]!;
    assert.ok(isFull(back), 'full state after an outage');
    assert.is(back.health!.status, 'changed while down');
    await server.until(() => a.client.status().connected && a.client.status().lastError === undefined, 2000, 'status recovered');
  });

  test('ServerErrorResponse UNAVAILABLE with retry_info: waits that long, then reports the full state', async () => {
    const a = agent();
    let refuse = true;
    server.respond(() => {
      if (!refuse) return { kind: 'message' };
      refuse = false;
      return {
        kind: 'message',
        message: { errorResponse: { type: 2, errorMessage: 'busy', details: { case: 'retryInfo', value: { retryAfterNanoseconds: 600_000_000n } } } },
      };
    });
    await a.client.start();
    await server.until(() => a.messages().length >= 2, 4000, 'the retry');
    const gap = server.seen[1]!.at - server.seen[0]!.at;
    assert.ok(gap >= 590, `waited ${gap} ms`);
    assert.ok(gap < 2000, `waited ${gap} ms`);
    assert.ok(isFull(a.messages()[1]!));
  });

  test('a server-assigned instance UID is used from then on and stored', async () => {
    const a = agent({ instanceUid: undefined as unknown as Uint8Array, stateDirectory: dir });
    const assigned = uuidV7();
    let first = true;
    server.respond(() => {
      const message = first ? { agentIdentification: { newInstanceUid: assigned } } : {};
      first = false;
      return { kind: 'message', message };
    });
    await a.client.start();
    await server.until(() => messagesOf(server, assigned).length >= 1, 3000, 'a message with the new UID');
    const m = messagesOf(server, assigned)[0]!;
    assert.ok(isFull(m), 'the new identity reports everything');
    const id = m.agentDescription!.identifyingAttributes.find((kv) => kv.key === 'service.instance.id');
    assert.is(text(id?.value), formatUuid(assigned));
    assert.is(a.client.status().instanceUid, formatUuid(assigned));
    await server.until(
      () => {
        try {
          return readFileSync(path.join(dir, INSTANCE_UID_FILE), 'utf8').trim() === formatUuid(assigned);
        } catch {
          return false;
        }
      },
      2000,
      'stored',
    );
  });

  test('own metrics: an offered destination is passed on once per change; the capability is claimed', async () => {
    const offers: unknown[] = [];
    const a = agent({ onOwnMetrics: (d) => offers.push(d) });
    const settings = (endpoint: string) => ({
      connectionSettings: { ownMetrics: { destinationEndpoint: endpoint, headers: { headers: [{ key: 'api-key', value: 'k' }] } } },
    });
    let endpoint = 'https://otlp.example/v1/metrics';
    server.respond(() => ({ kind: 'message', message: settings(endpoint) }));
    await a.client.start();
    await server.until(() => offers.length === 1, 3000, 'the offer');
    assert.equal(offers[0], { endpoint: 'https://otlp.example/v1/metrics', headers: { 'api-key': 'k' } });
    assert.ok((a.messages()[0]!.capabilities & BigInt(AgentCapabilities.REPORTS_OWN_METRICS)) !== 0n);
    a.health = { status: 'poke' };
    a.client.healthChanged();
    await server.until(() => a.messages().length >= 2);
    endpoint = 'https://otlp2.example/v1/metrics';
    a.health = { status: 'poke again' };
    a.client.healthChanged();
    await server.until(() => offers.length === 2, 3000, 'the changed offer');
    assert.equal(offers.length, 2, 'the same offer twice is passed on once');
  });

  test('stop() sends agent_disconnect last', async () => {
    const a = agent();
    await a.client.start();
    await server.until(() => a.client.status().connected, 2000, 'connected');
    await a.client.stop();
    const last = a.messages().at(-1)!;
    assert.ok(last.agentDisconnect !== undefined);
    assert.is(last.sequenceNum, BigInt(a.messages().length));
    assert.is(a.client.status().connected, false);
    if (transport === 'websocket') await server.until(() => server.connections === 0, 2000, 'connection closed');
    await a.client.stop(); // twice is fine
  });

  test('stop() while the server is down returns promptly and sends nothing', async () => {
    await server.stop();
    const a = agent();
    await a.client.start();
    await sleep(100);
    const t = performance.now();
    await a.client.stop();
    assert.ok(performance.now() - t < 500);
    await server.start();
    assert.is(a.messages().length, 0);
  });

  test.run();
}

const lifecycle = suite('opamp/client lifecycle');

lifecycle('a client that cannot reach its server never keeps the process alive (every timer unref()ed)', async () => {
  const { spawn } = await import('node:child_process');
  const { watch, root } = await import('../support/child-run.js');
  for (const endpoint of ['http://127.0.0.1:1/v1/opamp', 'ws://127.0.0.1:1/v1/opamp']) {
    const code = `
import { createOpampClient } from ${JSON.stringify(path.join(root, 'src/opamp/client.ts'))};
const c = createOpampClient({ endpoint: ${JSON.stringify(endpoint)}, retry: { initialBackoffMillis: 50, maxBackoffMillis: 100 } });
await c.start();
setTimeout(() => process.stdout.write(String(c.status().lastError)), 300);
`;
    const run = watch(
      spawn(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    assert.is(await run.exit(20_000), 0, run.stderr());
    assert.match(run.stdout(), /ECONNREFUSED|connection failed/);
  }
});

lifecycle.run();
