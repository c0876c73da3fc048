import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TransportOptionError } from '../../src/transport/errors.js';
import {
  createProtocolTransport,
  loadTransportModules,
  PROTOCOL_NAMES,
  PROTOCOLS,
  URL_SCHEMES,
  validateProtocolOptions,
} from '../../src/transport/protocols.js';

const test = suite('transport/protocols');

test('one row per protocol: encoding and transport module', () => {
  assert.equal(PROTOCOL_NAMES, ['grpc', 'http/protobuf', 'http/json']);
  assert.equal(
    PROTOCOL_NAMES.map((p) => [p, PROTOCOLS[p].encoding, PROTOCOLS[p].transport]),
    [
      ['grpc', 'protobuf', 'grpc'],
      ['http/protobuf', 'protobuf', 'http'],
      ['http/json', 'json', 'http'],
    ],
  );
});

test('every scheme implies a protocol that answers to it', () => {
  for (const [scheme, implied] of Object.entries(URL_SCHEMES)) {
    assert.ok(PROTOCOLS[implied.protocol].schemes.includes(scheme as keyof typeof URL_SCHEMES), scheme);
  }
});

test('only the modules the protocols need are loaded', async () => {
  const http = await loadTransportModules(['http/json']);
  assert.is(http.grpc, undefined);
  assert.type(http.http?.createOtlpHttpTransport, 'function');
  const grpc = await loadTransportModules(['grpc']);
  assert.is(grpc.http, undefined);
  assert.type(grpc.grpc?.createOtlpGrpcTransport, 'function');
});

test('the transport encodes as its protocol says', async () => {
  const modules = await loadTransportModules(PROTOCOL_NAMES);
  for (const p of PROTOCOL_NAMES) {
    const t = createProtocolTransport(p, { endpoint: 'http://127.0.0.1:1' }, modules);
    assert.is(t.encoding, PROTOCOLS[p].encoding, p);
    await t.close();
  }
  assert.throws(() => createProtocolTransport('grpc', {}, { grpc: undefined, http: modules.http }), /not loaded/);
});

test('options are validated per transport without loading it', () => {
  // gRPC reserves grpc-* metadata; HTTP does not.
  assert.throws(
    () => validateProtocolOptions('grpc', { headers: { 'grpc-timeout': '1S' } }),
    (e: unknown) => e instanceof TransportOptionError,
  );
  validateProtocolOptions('http/protobuf', { headers: { 'grpc-timeout': '1S' } });
});

test.run();
