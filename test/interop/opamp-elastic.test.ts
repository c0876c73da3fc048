/**
 * OpAMP against an independent implementation: `@elastic/opamp-client-node` (devDependency only),
 * a Node.js OpAMP client (plain HTTP) generated from upstream's opamp.proto by its own build. No
 * independent OpAMP *server* for Node exists on npm, and Debian packages none (`apt-cache search
 * opamp`), so the chain of proof is:
 * 1. schema: every message, field (number, name, type, cardinality) and enum value of its schema
 *    is in ours the same (ours also has what v0.18.0 added since), and messages built with its
 *    schema decode with ours and encode back to the same bytes, both ways;
 * 2. our test server (test/support/opamp-server.ts) serves that client: its reports are decoded
 *    and merged, a remote config offered by the server reaches it intact and its APPLIED status
 *    comes back with the hash, ReportFullState makes it report again;
 * 3. our client is tested against that proven server (test/opamp/).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { toBinary as ourToBinary, fromBinary as ourFromBinary, create as ourCreate } from '@bufbuild/protobuf';
import type { DescEnum, DescMessage } from '@bufbuild/protobuf';
import * as ours from '../../gen/opamp/v1/opamp_pb.js';
import { file_opamp_v1_opamp } from '../../gen/opamp/v1/opamp_pb.js';
import { file_opamp_v1_anyvalue } from '../../gen/opamp/v1/anyvalue_pb.js';
import { startOpampServer } from '../support/opamp-server.js';
import type { OpampTestServer } from '../support/opamp-server.js';

const require = createRequire(import.meta.url);
// Its own CommonJS build of protobuf-es drives its schema; ours drives ours.
const theirPb = require('@bufbuild/protobuf') as typeof import('@bufbuild/protobuf');
const theirs = require('@elastic/opamp-client-node/lib/generated/opamp_pb.js') as Record<string, unknown> & {
  file_opamp: { messages: DescMessage[]; enums: DescEnum[]; proto: { package: string } };
};
const theirAnyValue = require('@elastic/opamp-client-node/lib/generated/anyvalue_pb.js') as { file_anyvalue: { messages: DescMessage[] } };
const elastic = require('@elastic/opamp-client-node') as {
  createOpAMPClient(options: Record<string, unknown>): {
    setAgentDescription(d: Record<string, unknown>): void;
    setRemoteConfigStatus(s: Record<string, unknown>): void;
    start(): void;
    shutdown(): Promise<void>;
    getInstanceUid(): Uint8Array;
  };
  AgentCapabilities: Record<string, number>;
  RemoteConfigStatuses: Record<string, number>;
};

const test = suite('interop/opamp with @elastic/opamp-client-node');

/** Every message (nested included) of a file by its short name. */
function messagesByName(files: ReadonlyArray<{ messages: DescMessage[] }>): Map<string, DescMessage> {
  const out = new Map<string, DescMessage>();
  const walk = (ms: readonly DescMessage[]): void => {
    for (const m of ms) {
      out.set(m.name, m);
      walk(m.nestedMessages);
    }
  };
  for (const f of files) walk(f.messages);
  return out;
}

/** A field's wire identity: number, name, kind and scalar/message/enum type, cardinality, map key/value. */
function shape(f: DescMessage['fields'][number]): string {
  switch (f.fieldKind) {
    case 'scalar':
      return `${f.number} ${f.name} scalar ${f.scalar}`;
    case 'enum':
      return `${f.number} ${f.name} enum ${f.enum.name}`;
    case 'message':
      return `${f.number} ${f.name} message ${f.message.name}`;
    case 'list':
      return `${f.number} ${f.name} list ${f.listKind} ${f.listKind === 'scalar' ? f.scalar : f.listKind === 'enum' ? f.enum.name : f.message.name}`;
    case 'map':
      return `${f.number} ${f.name} map ${f.mapKey} ${f.mapKind} ${f.mapKind === 'scalar' ? f.scalar : f.mapKind === 'enum' ? f.enum.name : f.message.name}`;
  }
}

test('schema: every message, field and enum value of the independent schema is in ours, the same', () => {
  const theirMessages = messagesByName([theirs.file_opamp, theirAnyValue.file_anyvalue]);
  const ourMessages = messagesByName([file_opamp_v1_opamp, file_opamp_v1_anyvalue]);
  assert.ok(theirMessages.size >= 38, `${theirMessages.size} messages`);
  const problems: string[] = [];
  let fields = 0;
  for (const [name, m] of theirMessages) {
    const o = ourMessages.get(name);
    if (o === undefined) {
      problems.push(`${name}: missing`);
      continue;
    }
    for (const f of m.fields) {
      fields++;
      const of = o.fields.find((x) => x.number === f.number);
      if (of === undefined || shape(of) !== shape(f)) problems.push(`${name}: ${shape(f)} vs ${of === undefined ? 'none' : shape(of)}`);
    }
  }
  for (const e of theirs.file_opamp.enums) {
    const o = file_opamp_v1_opamp.enums.find((x) => x.name === e.name);
    if (o === undefined) problems.push(`enum ${e.name}: missing`);
    else
      for (const v of e.values)
        if (o.values.find((x) => x.number === v.number) === undefined) problems.push(`enum ${e.name}: value ${v.number} (${v.name}) missing`);
  }
  assert.equal(problems, []);
  assert.ok(fields >= 100, `${fields} fields compared`);
});

test('bytes: a full AgentToServer built with its schema decodes with ours and encodes back the same', () => {
  const schema = theirs['AgentToServerSchema'] as DescMessage;
  const kv = (key: string, v: string) => ({ key, value: { value: { case: 'stringValue', value: v } } });
  const msg = theirPb.create(schema, {
    instanceUid: new Uint8Array(16).fill(7),
    sequenceNum: 9n,
    agentDescription: { identifyingAttributes: [kv('service.name', 'x')], nonIdentifyingAttributes: [kv('host.name', 'h')] },
    capabilities: 0x3807n,
    health: {
      healthy: true,
      startTimeUnixNano: 5n,
      status: 's',
      statusTimeUnixNano: 6n,
      componentHealthMap: { a: { healthy: false, lastError: 'e' } },
    },
    effectiveConfig: { configMap: { configMap: { '': { body: new Uint8Array([1, 2]), contentType: 'text/yaml' } } } },
    remoteConfigStatus: { lastRemoteConfigHash: new Uint8Array([3]), status: 2, errorMessage: 'm' },
    agentDisconnect: {},
    flags: 1n,
    customCapabilities: { capabilities: ['c'] },
    customMessage: { capability: 'c', type: 't', data: new Uint8Array([4]) },
    availableComponents: { components: { r: { metadata: [kv('k', 'v')] } }, hash: new Uint8Array([5]) },
  } as never);
  const wire = theirPb.toBinary(schema, msg);
  const decoded = ourFromBinary(ours.AgentToServerSchema, wire);
  assert.equal(decoded.$unknown, undefined);
  assert.is(decoded.health!.componentHealthMap['a']!.lastError, 'e');
  assert.is(decoded.remoteConfigStatus!.status, ours.RemoteConfigStatuses.APPLYING);
  assert.equal(ourToBinary(ours.AgentToServerSchema, decoded), wire);
});

test('bytes: a full ServerToAgent built with ours decodes with its schema and encodes back the same', () => {
  const msg = ourCreate(ours.ServerToAgentSchema, {
    instanceUid: new Uint8Array(16).fill(1),
    errorResponse: {
      type: ours.ServerErrorResponseType.UNAVAILABLE,
      errorMessage: 'busy',
      details: { case: 'retryInfo', value: { retryAfterNanoseconds: 7n } },
    },
    remoteConfig: { config: { configMap: { '': { body: new Uint8Array([1]), contentType: 'text/yaml' } } }, configHash: new Uint8Array([2]) },
    connectionSettings: {
      hash: new Uint8Array([3]),
      opamp: {
        destinationEndpoint: 'wss://x',
        headers: { headers: [{ key: 'a', value: 'b' }] },
        certificate: { cert: new Uint8Array([4]) },
        heartbeatIntervalSeconds: 30n,
      },
      ownMetrics: { destinationEndpoint: 'https://m' },
      otherConnections: { o: { destinationEndpoint: 'd', otherSettings: { k: 'v' } } },
    },
    packagesAvailable: {
      packages: {
        p: { type: ours.PackageType.ADDON, version: '1', file: { downloadUrl: 'u', contentHash: new Uint8Array([5]) }, hash: new Uint8Array([6]) },
      },
    },
    flags: BigInt(ours.ServerToAgentFlags.REPORT_FULL_STATE),
    capabilities: 0x7fn,
    agentIdentification: { newInstanceUid: new Uint8Array(16).fill(2) },
    command: { type: ours.CommandType.RESTART },
  });
  const wire = ourToBinary(ours.ServerToAgentSchema, msg);
  const schema = theirs['ServerToAgentSchema'] as DescMessage;
  const decoded = theirPb.fromBinary(schema, wire) as unknown as { $unknown?: unknown; errorResponse: { Details: { case: string } } };
  assert.equal(decoded.$unknown, undefined);
  assert.is(decoded.errorResponse.Details.case, 'retryInfo');
  assert.equal(theirPb.toBinary(schema, decoded as never), wire);
});

let server: OpampTestServer;
test.before.each(async () => {
  server = await startOpampServer();
});
test.after.each(async () => {
  await server.stop();
});

test('our test server serves the independent client: reports, a remote config both ways, ReportFullState', async () => {
  const caps = elastic.AgentCapabilities;
  const statuses = elastic.RemoteConfigStatuses;
  const received: Array<{ body: string; contentType: string; hash: number[] }> = [];
  const client: ReturnType<typeof elastic.createOpAMPClient> = elastic.createOpAMPClient({
    endpoint: server.httpUrl,
    capabilities: BigInt(caps['AgentCapabilities_AcceptsRemoteConfig']! | caps['AgentCapabilities_ReportsRemoteConfig']!),
    heartbeatIntervalSeconds: 0.2,
    onMessage: ({
      remoteConfig,
    }: {
      remoteConfig?: { config: { configMap: Record<string, { body: Uint8Array; contentType: string }> }; configHash: Uint8Array };
    }) => {
      if (remoteConfig === undefined) return;
      const file = remoteConfig.config.configMap['']!;
      received.push({ body: new TextDecoder().decode(file.body), contentType: file.contentType, hash: [...remoteConfig.configHash] });
      client.setRemoteConfigStatus({ status: statuses['RemoteConfigStatuses_APPLIED'], lastRemoteConfigHash: remoteConfig.configHash });
    },
  });
  client.setAgentDescription({ identifyingAttributes: { 'service.name': 'elastic-peer' }, nonIdentifyingAttributes: { 'host.name': 'h1' } });
  try {
    server.offer({
      config: { configMap: { '': { body: new TextEncoder().encode('from: server\n'), contentType: 'text/yaml' } } },
      configHash: new Uint8Array([0xca, 0xfe]),
    });
    client.start();
    await server.until(
      () => [...server.agents.values()][0]?.remoteConfigStatus?.status === ours.RemoteConfigStatuses.APPLIED,
      5000,
      'APPLIED from the peer',
    );
    assert.equal(received, [{ body: 'from: server\n', contentType: 'text/yaml', hash: [0xca, 0xfe] }]);
    const agent = [...server.agents.values()][0]!;
    assert.equal([...agent.remoteConfigStatus!.lastRemoteConfigHash], [0xca, 0xfe]);
    assert.is(agent.description!.identifyingAttributes[0]!.key, 'service.name');
    assert.equal(agent.description!.identifyingAttributes[0]!.value!.value, { case: 'stringValue', value: 'elastic-peer' });
    assert.ok((agent.capabilities & BigInt(ours.AgentCapabilities.ACCEPTS_REMOTE_CONFIG)) !== 0n);
    assert.ok((agent.capabilities & BigInt(ours.AgentCapabilities.REPORTS_STATUS)) !== 0n);
    const first = server.seen[0]!;
    assert.is(first.headers['content-type'], 'application/x-protobuf');
    assert.is(first.message.instanceUid.length, 16);
    assert.equal([...first.message.instanceUid], [...client.getInstanceUid()]);
    // Sequence numbers without a gap: the server never had to ask for the full state.
    const seqs = server.seen.map((s) => s.message.sequenceNum);
    assert.equal(
      seqs,
      seqs.map((_, i) => seqs[0]! + BigInt(i)),
    );
    // The server loses the agent: a gap (its next heartbeat) is answered with ReportFullState, and
    // the peer reports its description again.
    const before = server.seen.length;
    server.agents.clear();
    await server.until(
      () => server.seen.slice(before).some((s) => s.message.agentDescription !== undefined),
      5000,
      'the peer reporting its full state',
    );
    // Its full report carries its remote config status: the server knows the config is applied.
    await server.until(() => [...server.agents.values()][0]?.remoteConfigStatus?.status === ours.RemoteConfigStatuses.APPLIED, 5000, 'APPLIED again');
  } finally {
    await client.shutdown();
  }
});

test.run();
