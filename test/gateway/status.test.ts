import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Code } from '@connectrpc/connect';
import { GRPC_CODE, REFUSAL_STATUS } from '../../src/gateway/status.js';

const test = suite('gateway/status');

test("our gRPC code numbers are connect's (the gateway answers with them without loading connect)", () => {
  for (const [name, value] of Object.entries(GRPC_CODE)) {
    assert.is(value, Code[name as keyof typeof Code], name);
  }
});

test('each refusal has the HTTP status and gRPC code the OTLP spec gives it', () => {
  const got = Object.fromEntries(Object.entries(REFUSAL_STATUS).map(([k, v]) => [k, [v.http, Code[v.grpc]]]));
  assert.equal(got, {
    unauthenticated: [401, 'Unauthenticated'],
    too_large: [413, 'ResourceExhausted'],
    malformed: [400, 'InvalidArgument'],
    unsupported_media_type: [415, 'Unimplemented'],
    not_found: [404, 'Unimplemented'],
    method_not_allowed: [405, 'Unimplemented'],
    backpressure: [429, 'ResourceExhausted'],
    draining: [503, 'Unavailable'],
    internal: [500, 'Internal'],
  });
});

test.run();
