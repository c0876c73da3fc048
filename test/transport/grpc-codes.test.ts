import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Code } from '@connectrpc/connect';
import { GRPC_CODE_NAMES, GrpcCode } from '../../src/transport/grpc-codes.js';

const test = suite('transport/grpc-codes');

test("our table is connect's Code, member for member, plus OK (0), which connect has no member for", () => {
  const ours = Object.entries(GrpcCode).filter(([k]) => k !== 'Ok');
  const theirs = Object.entries(Code).filter(([, v]) => typeof v === 'number');
  assert.equal(Object.fromEntries(ours), Object.fromEntries(theirs));
  assert.is(GrpcCode.Ok, 0);
});

test('every code has its canonical name', () => {
  assert.is(Object.keys(GRPC_CODE_NAMES).length, 17);
  assert.is(GRPC_CODE_NAMES[GrpcCode.Canceled], 'CANCELLED');
  assert.is(GRPC_CODE_NAMES[GrpcCode.ResourceExhausted], 'RESOURCE_EXHAUSTED');
  assert.is(GRPC_CODE_NAMES[GrpcCode.Unauthenticated], 'UNAUTHENTICATED');
});

test.run();
