/**
 * The gateway as an OpAMP agent (src/gateway/opamp-agent.ts), in process, against the test OpAMP
 * server (test/support/opamp-server.ts) and real loopback upstreams: what it reports (description,
 * capabilities, health per receiver and upstream, the effective config without a secret), remote
 * configs applied through the reload path (APPLIED with its hash, FAILED with the error while the
 * old config serves on, never the same hash twice, the document's own `opamp` section ignored), and
 * a restart with durable storage: the same instance UID, the stored remote config serving before the
 * server is back, with the data queued for the upstream it added. The CLI (`--opamp`, WebSocket,
 * agent_disconnect on SIGTERM, a restart): opamp-cli.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AgentCapabilities, RemoteConfigStatuses } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentDescription, ComponentHealth } from '../../gen/opamp/v1/opamp_pb.js';
import type { AnyValue } from '../../gen/opamp/v1/anyvalue_pb.js';
import { loadGatewayConfig } from '../../src/gateway/config/load.js';
import { startGateway } from '../../src/gateway/gateway.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { GatewayObserver, ReloadResult } from '../../src/gateway/observe/events.js';
import { packageVersion } from '../../src/internal/package-version.js';
import { startOpampServer } from '../support/opamp-server.js';
import type { AgentState, OpampTestServer } from '../support/opamp-server.js';
import { startReceiver } from '../support/receiver.js';
import type { Receiver } from '../support/receiver.js';
import { bin, eventually, metricsRequest, post, PROTOBUF } from './harness.js';

const test = suite('gateway/opamp');
const LOOPBACK = { grpc: { address: '127.0.0.1:0' }, http: { address: '127.0.0.1:0' } };
const FAST_RETRY = { initialBackoff: '20ms', maxBackoff: '50ms' };

interface Running {
  readonly gw: Gateway;
  readonly reloads: ReloadResult[];
  /** The server's view of this agent (once it reported). */
  agent(): AgentState;
  /** POSTs metrics for `services`; the HTTP status. */
  send(services: readonly string[]): Promise<number>;
}

/** A gateway reporting to `server`; `env` expands the local document and remote configs (default process.env). */
async function start(server: OpampTestServer, document: Record<string, unknown>, env?: Record<string, string>): Promise<Running> {
  const reloads: ReloadResult[] = [];
  const observer: GatewayObserver = { onRequest() {}, onRefused() {}, onReload: (r) => reloads.push(r) };
  const config = loadGatewayConfig({
    document: { receivers: LOOPBACK, opamp: { endpoint: server.httpUrl, pollingInterval: '1s' }, ...document },
    env: env ?? {},
  });
  const gw = await startGateway(config, { observer, remoteConfig: env === undefined ? {} : { env } });
  const uidHex = (): string => gw.opamp!.status().instanceUid.replaceAll('-', '');
  return {
    gw,
    reloads,
    agent: () => server.agents.get(uidHex())!,
    async send(services) {
      const res = await post(`http://${gw.addresses.http}/v1/metrics`, bin.metrics(metricsRequest(services)), PROTOBUF);
      await res.arrayBuffer();
      return res.status;
    },
  };
}

/** Offers `yaml` as the remote config; its hash is the SHA-256 of the text. */
function offer(server: OpampTestServer, yaml: string, contentType = 'text/yaml'): Uint8Array {
  const configHash = new Uint8Array(createHash('sha256').update(yaml).digest());
  server.offer({ config: { configMap: { '': { body: new TextEncoder().encode(yaml), contentType } } }, configHash });
  return configHash;
}

function hasHash(a: AgentState | undefined, hash: Uint8Array, status: RemoteConfigStatuses): boolean {
  const s = a?.remoteConfigStatus;
  return s !== undefined && s.status === status && Buffer.from(s.lastRemoteConfigHash).equals(hash);
}

function attributes(list: AgentDescription['identifyingAttributes']): Record<string, AnyValue['value']['value']> {
  return Object.fromEntries(list.map((kv) => [kv.key, kv.value?.value.value]));
}

function effectiveYaml(a: AgentState | undefined): string {
  const file = a?.effectiveConfig?.configMap?.configMap[''];
  return file === undefined ? '' : new TextDecoder().decode(file.body);
}

function upstreamHealth(a: AgentState | undefined, name: string): ComponentHealth | undefined {
  return a?.health?.componentHealthMap['upstreams']?.componentHealthMap[name];
}

async function withServer(fn: (server: OpampTestServer, receivers: Receiver[]) => Promise<void>, receiverCount = 1): Promise<void> {
  const server = await startOpampServer();
  const receivers = await Promise.all(Array.from({ length: receiverCount }, () => startReceiver({ grpc: false })));
  try {
    await fn(server, receivers);
  } finally {
    await Promise.all(receivers.map((r) => r.close()));
    await server.stop();
  }
}

test('reports description, capabilities and health; an upstream taken down turns unhealthy with its error, and back', async () => {
  await withServer(async (server, [upstream]) => {
    const r = await start(server, { upstreams: { main: { endpoint: upstream!.httpUrl, retry: FAST_RETRY } } });
    try {
      await server.until(() => r.agent()?.health !== undefined, 5000, 'the first report');
      const a = r.agent();
      const uid = r.gw.opamp!.status().instanceUid;
      assert.match(uid, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7');
      assert.equal(attributes(a.description!.identifyingAttributes), {
        'service.name': 'otlp-fanout-gateway',
        'service.version': packageVersion(),
        'service.instance.id': uid,
      });
      const other = attributes(a.description!.nonIdentifyingAttributes);
      assert.equal(Object.keys(other), ['host.name', 'os.type']);
      assert.is(other['os.type'], process.platform === 'win32' ? 'windows' : process.platform);
      const want =
        AgentCapabilities.REPORTS_STATUS |
        AgentCapabilities.ACCEPTS_REMOTE_CONFIG |
        AgentCapabilities.REPORTS_EFFECTIVE_CONFIG |
        AgentCapabilities.REPORTS_REMOTE_CONFIG |
        AgentCapabilities.REPORTS_HEALTH |
        AgentCapabilities.REPORTS_HEARTBEAT;
      assert.is(a.capabilities, BigInt(want));

      const h = a.health!;
      assert.ok(h.healthy);
      assert.is(h.status, 'serving');
      assert.ok(h.startTimeUnixNano > 0n);
      assert.equal(Object.keys(h.componentHealthMap).sort(), ['receivers', 'upstreams']);
      const receivers = h.componentHealthMap['receivers']!.componentHealthMap;
      assert.is(receivers['http']!.status, `listening on ${r.gw.addresses.http}`);
      assert.is(receivers['grpc']!.status, `listening on ${r.gw.addresses.grpc}`);
      const main = upstreamHealth(a, 'main')!;
      assert.ok(main.healthy);
      assert.is(main.status, 'forwarding');
      assert.ok(main.startTimeUnixNano > 0n && main.statusTimeUnixNano > 0n);

      await upstream!.close();
      assert.is(await r.send(['down']), 200);
      await server.until(() => upstreamHealth(r.agent(), 'main')?.healthy === false, 5000, 'main unhealthy');
      const down = upstreamHealth(r.agent(), 'main')!;
      assert.is(down.status, 'failing');
      assert.ok(down.lastError.length > 0, "with the failed attempt's error");
      assert.ok(down.statusTimeUnixNano > main.statusTimeUnixNano, 'the status time moved with the status');
      assert.is(down.startTimeUnixNano, main.startTimeUnixNano);
      const top = r.agent().health!;
      assert.not.ok(top.healthy, 'rolled up to the gateway');
      assert.is(top.lastError, `upstreams: main: ${down.lastError}`);

      // Back up on another port: a reload points main there (changed: a new upstream, a new start time), healthy again.
      const again = await startReceiver({ grpc: false });
      try {
        const result = await r.gw.reload(
          loadGatewayConfig({
            document: {
              receivers: LOOPBACK,
              opamp: { endpoint: server.httpUrl, pollingInterval: '1s' },
              upstreams: { main: { endpoint: again.httpUrl } },
            },
          }),
        );
        assert.is(result.outcome, 'applied');
        await server.until(() => upstreamHealth(r.agent(), 'main')?.healthy === true, 5000, 'main healthy after the reload');
        assert.ok(r.agent().health!.healthy);
        assert.ok(upstreamHealth(r.agent(), 'main')!.startTimeUnixNano > main.startTimeUnixNano);
        await server.until(() => effectiveYaml(r.agent()).includes(again.httpUrl), 5000, 'the effective config after the reload');
      } finally {
        await r.gw.shutdown(200);
        await again.close();
      }
      assert.ok(r.agent().disconnected, 'agent_disconnect at shutdown');
    } finally {
      await r.gw.shutdown(200);
    }
  });
});

test('the effective config: the running YAML, with no token, API key, header value or TLS key in it', async () => {
  const env = {
    ACME_TOKEN: 'tok-acme-0123456789',
    ACME_KEY: 'key-acme-abcdefgh',
    VENDOR_KEY: 'vendor-header-secret',
    MAIN_TOKEN: 'main-bearer-secret',
    OPAMP_TOKEN: 'opamp-bearer-secret',
  };
  await withServer(async (server, [upstream]) => {
    const r = await start(
      server,
      {
        opamp: { endpoint: server.httpUrl, headers: { authorization: 'Bearer ${OPAMP_TOKEN}' } },
        tenants: {
          acme: {
            tokens: ['${ACME_TOKEN}'],
            apiKeys: ['${ACME_KEY}'],
            upstreams: { vendor: { endpoint: upstream!.httpUrl, headers: { 'api-key': '${VENDOR_KEY}' } } },
          },
        },
        upstreams: { main: { endpoint: upstream!.httpUrl, headers: { authorization: 'Bearer ${MAIN_TOKEN}' } } },
      },
      env,
    );
    try {
      await server.until(() => effectiveYaml(r.agent()) !== '', 5000, 'the effective config');
      const text = effectiveYaml(r.agent());
      assert.is(r.agent().effectiveConfig!.configMap!.configMap['']!.contentType, 'text/yaml');
      for (const [name, value] of Object.entries(env)) assert.not.ok(text.includes(value), `${name} is not in the effective config`);
      assert.match(text, 'acme:');
      assert.match(text, `endpoint: ${upstream!.httpUrl}`);
      assert.match(text, 'authorization: <redacted>');
      assert.match(text, 'api-key: <redacted>');
      // The server got the OpAMP credentials, in the header only.
      assert.is(server.seen[0]!.headers['authorization'], `Bearer ${env.OPAMP_TOKEN}`);
    } finally {
      await r.gw.shutdown(200);
    }
  });
});

test('a remote config is applied (a new upstream gets data) → APPLIED with its hash; the same hash is not applied twice', async () => {
  await withServer(async (server, [main, extra]) => {
    const r = await start(server, { upstreams: { main: { endpoint: main!.httpUrl } } });
    try {
      await server.until(() => r.agent()?.health !== undefined, 5000, 'the first report');
      // ${ENV} in a remote config is expanded with the gateway's environment (process.env here).
      process.env['OPAMP_TEST_EXTRA'] = extra!.httpUrl;
      const yaml = `upstreams:\n  main: { endpoint: "${main!.httpUrl}" }\n  extra: { endpoint: "\${OPAMP_TEST_EXTRA}" }\n`;
      const hash = offer(server, yaml);
      await server.until(() => hasHash(r.agent(), hash, RemoteConfigStatuses.APPLIED), 5000, 'APPLIED');
      assert.equal(
        r.gw.upstreams.map((u) => u.name),
        ['main', 'extra'],
      );
      const applied = r.reloads.filter((x) => x.trigger === 'opamp');
      assert.is(applied.length, 1);
      assert.is(applied[0]!.outcome, 'applied');
      assert.equal(applied[0]!.upstreams.added, ['extra']);
      assert.match(applied[0]!.source, `remote config ${Buffer.from(hash).toString('hex').slice(0, 12)}`);
      assert.is(r.gw.opamp!.status().remoteConfig.state, 'applied');
      assert.is(await r.send(['to-both']), 200);
      await extra!.waitFor((q) => q.signal === 'metrics', 3000);
      await main!.waitFor((q) => q.signal === 'metrics', 3000);
      await server.until(() => effectiveYaml(r.agent()).includes('extra:'), 5000, 'the new effective config');

      // A server that offers it again in every answer: applied once (the client keeps the last hash).
      server.respond(() => ({
        kind: 'message',
        message: {
          remoteConfig: { config: { configMap: { '': { body: new TextEncoder().encode(yaml), contentType: 'text/yaml' } } }, configHash: hash },
        },
      }));
      const seen = server.seen.length;
      await r.gw.reload(r.gw.config); // a local reload: reported, not a reason to re-apply
      await server.until(() => server.seen.length >= seen + 2, 5000, 'two more exchanges');
      assert.is(r.reloads.filter((x) => x.trigger === 'opamp').length, 1, 'not applied again');
    } finally {
      delete process.env['OPAMP_TEST_EXTRA'];
      await r.gw.shutdown(200);
    }
  }, 2);
});

test('an invalid remote config → FAILED with the error (key path, value, allowed); the old config serves on', async () => {
  await withServer(async (server, [main]) => {
    const r = await start(server, { upstreams: { main: { endpoint: main!.httpUrl } } });
    try {
      await server.until(() => r.agent()?.health !== undefined, 5000, 'the first report');
      const before = r.gw.config;
      const hash = offer(server, `upstreams:\n  main: { endpoint: "${main!.httpUrl}", timeout: soon }\n`);
      await server.until(() => hasHash(r.agent(), hash, RemoteConfigStatuses.FAILED), 5000, 'FAILED');
      const error = r.agent().remoteConfigStatus!.errorMessage;
      assert.match(error, 'upstreams.main.timeout');
      assert.match(error, '"soon"');
      assert.match(error, 'expected a duration');
      assert.is(r.gw.config, before, 'nothing changed');
      assert.is(r.reloads.at(-1)!.outcome, 'rejected');
      assert.is(await r.send(['still']), 200);
      await main!.waitFor((q) => q.signal === 'metrics', 3000);

      // Not YAML at all, and a map without a YAML file: FAILED too, saying why.
      const notYaml = offer(server, 'upstreams: [');
      await server.until(() => hasHash(r.agent(), notYaml, RemoteConfigStatuses.FAILED), 5000, 'FAILED (YAML)');
      assert.match(r.agent().remoteConfigStatus!.errorMessage, /is not valid YAML/);
      const json = offer(server, '{}', 'application/json');
      await server.until(() => hasHash(r.agent(), json, RemoteConfigStatuses.FAILED), 5000, 'FAILED (no YAML file)');
      assert.match(r.agent().remoteConfigStatus!.errorMessage, /expected one file with content type text\/yaml/);
      assert.is(r.gw.config, before);
    } finally {
      await r.gw.shutdown(200);
    }
  });
});

test("a remote config's own opamp section is ignored (reported) and the local one kept", async () => {
  await withServer(async (server, [main]) => {
    const r = await start(server, {});
    try {
      await server.until(() => r.agent()?.health !== undefined, 5000, 'the first report');
      const local = r.gw.config.opamp;
      const hash = offer(server, `opamp: { endpoint: "http://127.0.0.1:1/elsewhere" }\nupstreams:\n  main: { endpoint: "${main!.httpUrl}" }\n`);
      await server.until(() => hasHash(r.agent(), hash, RemoteConfigStatuses.APPLIED), 5000, 'APPLIED');
      const result = r.reloads.find((x) => x.trigger === 'opamp')!;
      assert.is(result.outcome, 'applied');
      assert.equal(
        result.ignored.map((i) => i.path),
        ['opamp'],
      );
      assert.equal(result.needsRestart, []);
      assert.is(r.gw.config.opamp, local);
      assert.not.match(effectiveYaml(r.agent()), 'elsewhere');
      const seen = server.seen.length;
      await server.until(() => server.seen.length > seen, 5000, 'still reporting to the same server');
    } finally {
      await r.gw.shutdown(200);
    }
  });
});

test('restart with storage: the same instance UID; the stored remote config serves before the server answers, with its queued data', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-opamp-'));
  const server = await startOpampServer();
  const main = await startReceiver({ grpc: false });
  // Down at first (503): data for it waits in the durable log across the restart.
  const extra = await startReceiver({ grpc: false, respond: () => ({ kind: 'error', httpStatus: 503 }) });
  const local = { storage: { directory: dir }, upstreams: { main: { endpoint: main.httpUrl } } };
  try {
    const first = await start(server, local);
    let uid: string;
    let hash: Uint8Array;
    try {
      await server.until(() => first.agent()?.health !== undefined, 5000, 'the first report');
      uid = first.gw.opamp!.status().instanceUid;
      const yaml = `upstreams:\n  main: { endpoint: "${main.httpUrl}" }\n  extra: { endpoint: "${extra.httpUrl}", retry: { initialBackoff: 20ms, maxBackoff: 50ms } }\n`;
      hash = offer(server, yaml);
      await server.until(() => hasHash(first.agent(), hash, RemoteConfigStatuses.APPLIED), 5000, 'APPLIED');
      assert.is(await first.send(['kept']), 200);
      await extra.waitFor((q) => q.signal === 'metrics', 3000);
    } finally {
      const report = await first.gw.shutdown(300);
      assert.ok(
        report.upstreams.some((u) => u.name === 'extra' && (u.keptRequests ?? 0) > 0),
        'extra kept its data on disk',
      );
    }
    await server.stop();
    extra.respondWith(undefined);
    extra.clear();

    const second = await start(server, local);
    try {
      const status = second.gw.opamp!.status();
      assert.is(status.instanceUid, uid, 'the same agent');
      assert.is(status.connected, false, 'the server is down');
      assert.is(status.remoteConfig.state, 'applied');
      assert.ok(Buffer.from(status.remoteConfig.hash).equals(hash));
      assert.equal(
        second.gw.upstreams.map((u) => u.name),
        ['main', 'extra'],
        'started with the stored remote config',
      );
      // What was queued for extra before the restart is delivered: its cursor survived the start.
      const got = await extra.waitFor((q) => q.signal === 'metrics', 5000);
      assert.is(got.message.resourceMetrics[0]!.resource!.attributes.find((kv) => kv.key === 'service.name')!.value!.value.value, 'kept');
      assert.equal(
        second.reloads.map((x) => [x.trigger, x.outcome]),
        [['opamp', 'unchanged']],
        'the client re-applied it at start: already running',
      );

      const before = second.reloads.length;
      await server.start();
      await eventually(() => hasHash(server.agents.get(uid.replaceAll('-', '')), hash, RemoteConfigStatuses.APPLIED), 8000, 'APPLIED reported');
      assert.is(second.reloads.length, before, 'the server does not send it again');
    } finally {
      await second.gw.shutdown(300);
    }
  } finally {
    await main.close();
    await extra.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the opamp section needs a restart: a local reload that changes it keeps the running one', async () => {
  await withServer(async (server) => {
    const r = await start(server, {});
    try {
      const next = loadGatewayConfig({ document: { receivers: LOOPBACK, opamp: { endpoint: 'http://127.0.0.1:1/other' } } });
      const result = await r.gw.reload(next);
      assert.is(result.outcome, 'unchanged');
      assert.equal(
        result.needsRestart.map((n) => n.path),
        ['opamp'],
      );
      assert.is(r.gw.config.opamp!.endpoint, server.httpUrl);
    } finally {
      await r.gw.shutdown(200);
    }
  });
});

test('no server at all: the gateway serves; start() does not wait for it', async () => {
  const main = await startReceiver({ grpc: false });
  const config = loadGatewayConfig({
    document: { receivers: LOOPBACK, opamp: { endpoint: 'http://127.0.0.1:1/v1/opamp' }, upstreams: { main: { endpoint: main.httpUrl } } },
  });
  const started = performance.now();
  const gw = await startGateway(config);
  try {
    assert.ok(performance.now() - started < 3000);
    const res = await post(`http://${gw.addresses.http}/v1/metrics`, bin.metrics(metricsRequest(['alone'])), PROTOBUF);
    assert.is(res.status, 200);
    await main.waitFor((q) => q.signal === 'metrics', 3000);
    await eventually(() => gw.opamp!.status().lastError !== undefined, 3000, 'the failure recorded');
    assert.not.ok(gw.opamp!.status().connected);
  } finally {
    await gw.shutdown(200);
    await main.close();
  }
});

test.run();
