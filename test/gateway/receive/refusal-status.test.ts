import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Code } from '@connectrpc/connect';
import { REFUSAL_STATUS } from '../../../src/gateway/receive/refusal-status.js';

const test = suite('gateway/status');

test('each refusal has the HTTP status and gRPC code the OTLP spec gives it', () => {
  const got = Object.fromEntries(Object.entries(REFUSAL_STATUS).map(([k, v]) => [k, [v.http, Code[v.grpc]]]));
  assert.equal(got, {
    unauthenticated: [401, 'Unauthenticated'],
    too_large: [413, 'ResourceExhausted'],
    malformed: [400, 'InvalidArgument'],
    unsupported_media_type: [415, 'Unimplemented'],
    not_found: [404, 'Unimplemented'],
    method_not_allowed: [405, 'Unimplemented'],
    wrong_port: [400, 'Unimplemented'],
    backpressure: [429, 'ResourceExhausted'],
    draining: [503, 'Unavailable'],
    storage_unavailable: [503, 'Unavailable'],
    internal: [500, 'Internal'],
  });
});

test.run();
