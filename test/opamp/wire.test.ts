/**
 * Golden bytes: OpAMP messages written by hand from the field numbers and wire types of
 * opamp-spec v0.18.0 (proto/opamp.proto, proto/anyvalue.proto), independent of our schema and of
 * gen/, then decoded with gen/ and encoded back byte for byte. A wrong field number, type (varint
 * vs fixed64, enum values) or map layout in proto/opamp/v1 fails here. The interop suite checks the
 * same schema against another implementation's (test/interop/opamp-elastic.test.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AgentToServerSchema, RemoteConfigStatuses, ServerErrorResponseType, ServerToAgentSchema } from '../../gen/opamp/v1/opamp_pb.js';

const test = suite('opamp/wire');

// ---- a minimal protobuf writer: tags, varints, fixed64, length-delimited ----
const VARINT = 0;
const I64 = 1;
const LEN = 2;
function varint(n: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}
const tag = (field: number, type: number): number[] => varint(BigInt((field << 3) | type));
const u = (field: number, n: bigint | number): number[] => [...tag(field, VARINT), ...varint(BigInt(n))];
const fixed64 = (field: number, n: bigint): number[] => [
  ...tag(field, I64),
  ...Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn)),
];
const bytes = (field: number, b: ArrayLike<number>): number[] => [...tag(field, LEN), ...varint(BigInt(b.length)), ...Array.from(b)];
const str = (field: number, s: string): number[] => bytes(field, new TextEncoder().encode(s));
const msg = (field: number, ...parts: number[][]): number[] => bytes(field, parts.flat());

const UID = Array.from({ length: 16 }, (_, i) => i + 1);

test('AgentToServer: every field the client writes, by number and wire type', () => {
  const wire = new Uint8Array([
    ...bytes(1, UID), // instance_uid
    ...u(2, 42n), // sequence_num
    ...msg(
      3, // agent_description
      msg(1, str(1, 'service.name'), msg(2, str(1, 'otlp-fanout-gateway'))), // identifying_attributes: KeyValue{key, AnyValue{string_value}}
      msg(2, str(1, 'pid'), msg(2, u(3, 4242n))), // non_identifying_attributes: AnyValue.int_value = 3
    ),
    ...u(4, 0x3807n), // capabilities: ReportsStatus|AcceptsRemoteConfig|ReportsEffectiveConfig|ReportsHealth|ReportsRemoteConfig|ReportsHeartbeat
    ...msg(
      5, // health: ComponentHealth
      // healthy (1, bool) left out: false; the child below sets it
      fixed64(2, 1_700_000_000_000_000_000n), // start_time_unix_nano: fixed64
      str(3, 'upstreams: b: refused'), // last_error
      str(4, 'degraded'), // status
      fixed64(5, 1_700_000_001_000_000_000n), // status_time_unix_nano
      msg(6, str(1, 'upstreams'), msg(2, u(1, 1n))), // component_health_map entry {key=1, value=2}
    ),
    ...msg(6, msg(1, msg(1, str(1, ''), msg(2, str(1, 'a: 1\n'), str(2, 'text/yaml'))))), // effective_config.config_map.config_map[""]
    ...msg(7, bytes(1, [0xab]), u(2, 3n), str(3, 'bad')), // remote_config_status: hash, status FAILED = 3, error_message
    ...msg(9), // agent_disconnect
    ...u(10, 1n), // flags: RequestInstanceUid
    ...msg(15, bytes(1, [1]), u(2, 2n)), // connection_settings_status (v0.18.0): hash, APPLYING = 2
  ]);
  const m = fromBinary(AgentToServerSchema, wire);
  assert.equal([...m.instanceUid], UID);
  assert.is(m.sequenceNum, 42n);
  assert.is(m.agentDescription!.identifyingAttributes[0]!.key, 'service.name');
  assert.equal(m.agentDescription!.identifyingAttributes[0]!.value!.value, { case: 'stringValue', value: 'otlp-fanout-gateway' });
  assert.equal(m.agentDescription!.nonIdentifyingAttributes[0]!.value!.value, { case: 'intValue', value: 4242n });
  assert.is(m.capabilities, 0x3807n);
  assert.is(m.health!.healthy, false);
  assert.is(m.health!.startTimeUnixNano, 1_700_000_000_000_000_000n);
  assert.is(m.health!.statusTimeUnixNano, 1_700_000_001_000_000_000n);
  assert.is(m.health!.lastError, 'upstreams: b: refused');
  assert.is(m.health!.status, 'degraded');
  assert.is(m.health!.componentHealthMap['upstreams']!.healthy, true);
  const file = m.effectiveConfig!.configMap!.configMap['']!;
  assert.is(new TextDecoder().decode(file.body), 'a: 1\n');
  assert.is(file.contentType, 'text/yaml');
  assert.is(m.remoteConfigStatus!.status, RemoteConfigStatuses.FAILED);
  assert.equal([...m.remoteConfigStatus!.lastRemoteConfigHash], [0xab]);
  assert.is(m.remoteConfigStatus!.errorMessage, 'bad');
  assert.ok(m.agentDisconnect !== undefined);
  assert.is(m.flags, 1n);
  assert.is(m.connectionSettingsStatus!.status, 2);
  assert.equal(m.$unknown, undefined, 'no field left unknown');
  assert.equal(toBinary(AgentToServerSchema, m), wire, 'written back byte for byte');
});

test('ServerToAgent: error response with retry info, remote config, connection settings, flags, identification', () => {
  const wire = new Uint8Array([
    ...bytes(1, UID),
    ...msg(2, u(1, 2n), str(2, 'busy'), msg(3, u(1, 30_000_000_000n))), // error_response: UNAVAILABLE = 2, retry_info (oneof member 3)
    ...msg(3, msg(1, msg(1, str(1, 'gateway.yaml'), msg(2, str(1, 'x: 1'), str(2, 'application/yaml')))), bytes(2, [9, 9])), // remote_config
    ...msg(4, bytes(1, [7]), msg(2, str(1, 'wss://opamp.example/v1/opamp'), u(4, 15n)), msg(3, str(1, 'https://otlp.example'))), // connection_settings
    ...u(6, 1n), // flags: ReportFullState
    ...u(7, 0x7n), // capabilities
    ...msg(8, bytes(1, UID.slice().reverse())), // agent_identification.new_instance_uid
  ]);
  const m = fromBinary(ServerToAgentSchema, wire);
  assert.is(m.errorResponse!.type, ServerErrorResponseType.UNAVAILABLE);
  assert.is(m.errorResponse!.errorMessage, 'busy');
  assert.equal(m.errorResponse!.details.case, 'retryInfo');
  assert.is(m.errorResponse!.details.value!.retryAfterNanoseconds, 30_000_000_000n);
  const file = m.remoteConfig!.config!.configMap['gateway.yaml']!;
  assert.is(new TextDecoder().decode(file.body), 'x: 1');
  assert.is(file.contentType, 'application/yaml');
  assert.equal([...m.remoteConfig!.configHash], [9, 9]);
  assert.is(m.connectionSettings!.opamp!.destinationEndpoint, 'wss://opamp.example/v1/opamp');
  assert.is(m.connectionSettings!.opamp!.heartbeatIntervalSeconds, 15n);
  assert.is(m.connectionSettings!.ownMetrics!.destinationEndpoint, 'https://otlp.example');
  assert.is(m.flags, 1n);
  assert.is(m.capabilities, 7n);
  assert.equal([...m.agentIdentification!.newInstanceUid], UID.slice().reverse());
  assert.equal(m.$unknown, undefined);
  assert.equal(toBinary(ServerToAgentSchema, m), wire);
});

test('an empty message is zero bytes both ways', () => {
  assert.is(toBinary(AgentToServerSchema, create(AgentToServerSchema)).length, 0);
  assert.equal(fromBinary(ServerToAgentSchema, new Uint8Array(0)), create(ServerToAgentSchema));
});

test.run();
