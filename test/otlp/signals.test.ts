import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { exportResponse, readPartialSuccess, signalSchemas } from '../../src/otlp/signal-schemas.js';
import { countItems, isPartialSuccess, SIGNAL_BY_GRPC_PATH, SIGNAL_BY_HTTP_PATH, SIGNAL_SPECS, SIGNALS } from '../../src/otlp/signals.js';

const test = suite('otlp/signals');

test('the schema-free facts agree with the generated schemas', () => {
  for (const s of SIGNALS) {
    const spec = SIGNAL_SPECS[s];
    const { service, response, request } = signalSchemas[s];
    assert.is(spec.grpcService, service.typeName, s);
    assert.is(spec.grpcPath, `/${service.typeName}/${service.method.export.name}`, s);
    assert.is(SIGNAL_BY_GRPC_PATH.get(spec.grpcPath), s);
    assert.is(SIGNAL_BY_HTTP_PATH.get(spec.httpPath), s);
    const partial = response.field['partialSuccess']!.message!;
    assert.is(spec.partialSuccessType, partial.typeName, s);
    assert.ok(
      partial.fields.some((f) => f.localName === spec.rejectedField),
      `${s}: ${spec.rejectedField}`,
    );
    assert.is(request.fields[0]!.name, spec.fields[0], s);
  }
  assert.equal(SIGNALS, ['metrics', 'logs', 'traces']);
  assert.is(countItems('metrics', 1), '1 data point');
  assert.is(countItems('logs', 2), '2 log records');
});

// Step table of the rule: (rejected, message) → partial success?
const rule: ReadonlyArray<[number, string, boolean]> = [
  [0, '', false],
  [1, '', true],
  [0, 'warning', true],
  [5, 'dropped', true],
];

test('one rule builds responses and reads them back', () => {
  for (const [rejected, message, partial] of rule) {
    assert.is(isPartialSuccess(rejected, message), partial, `${rejected} ${JSON.stringify(message)}`);
    for (const s of SIGNALS) {
      const r = exportResponse(s, rejected, message);
      assert.is(r.partialSuccess !== undefined, partial, `${s} built`);
      assert.equal(readPartialSuccess(r), partial ? { rejected, message } : undefined, `${s} read`);
    }
  }
  // An all-default partial_success (forbidden by the spec) reads as full success.
  assert.is(readPartialSuccess(create(signalSchemas.logs.response, { partialSuccess: {} })), undefined);
});

test('the schema-free half loads neither gen/ nor protobuf-es reflection', () => {
  // The main entry may reach otlp/signals.ts and transport/protocols.ts; only `import type` of gen/ or @bufbuild/protobuf.
  for (const file of ['../../src/otlp/signals.ts', '../../src/transport/protocols.ts']) {
    const text = readFileSync(new URL(file, import.meta.url), 'utf8');
    const values = [...text.matchAll(/^import(?!\s+type\b)[^'"]*from '([^']+)'/gm)].map((m) => m[1]!);
    assert.equal(
      values.filter((v) => v.includes('/gen/') || v === '@bufbuild/protobuf'),
      [],
      file,
    );
  }
});

test.run();
