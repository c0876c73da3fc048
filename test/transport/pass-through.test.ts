import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import { ExportLogsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { rawMessage } from '../../src/transport/pass-through.js';

const test = suite('transport/pass-through');

test('empty body → empty message → empty bytes', () => {
  const m = rawMessage(ExportMetricsServiceRequestSchema, new Uint8Array(0));
  assert.is(toBinary(ExportMetricsServiceRequestSchema, m).length, 0);
});

test('toBinary reproduces the body exactly and shares its memory (no copy made up front)', () => {
  const body = toBinary(
    ExportLogsServiceRequestSchema,
    create(ExportLogsServiceRequestSchema, {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { value: { case: 'stringValue', value: 'x'.repeat(300) } } }] }] }, {}],
    }),
  );
  const m = rawMessage(ExportLogsServiceRequestSchema, body);
  assert.equal(toBinary(ExportLogsServiceRequestSchema, m), body);
  assert.is(m.resourceLogs.length, 0);
  assert.is(m.$unknown!.length, 1);
  assert.is(m.$unknown![0]!.data.buffer, body.buffer);
});

test('property: arbitrary field sequences, unknown fields and wire types survive byte for byte (seeded)', () => {
  let seed = 0x9e3779b9;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let round = 0; round < 300; round++) {
    const parts: number[] = [];
    const fields = 1 + (next() % 6);
    for (let f = 0; f < fields; f++) {
      const no = 1 + (next() % 3000);
      const kind = next() % 4;
      const pushVarint = (v: number) => {
        while (v > 0x7f) {
          parts.push((v & 0x7f) | 0x80);
          v >>>= 7;
        }
        parts.push(v);
      };
      const wireType = [0, 1, 2, 5][kind]!;
      pushVarint((no << 3) | wireType);
      if (wireType === 0) pushVarint(next() % 100000);
      else if (wireType === 1) for (let i = 0; i < 8; i++) parts.push(next() & 0xff);
      else if (wireType === 5) for (let i = 0; i < 4; i++) parts.push(next() & 0xff);
      else {
        const len = next() % 200;
        pushVarint(len);
        for (let i = 0; i < len; i++) parts.push(next() & 0xff);
      }
    }
    const body = Uint8Array.from(parts);
    const m = rawMessage(ExportMetricsServiceRequestSchema, body);
    assert.equal(toBinary(ExportMetricsServiceRequestSchema, m), body, `round ${round}`);
  }
});

test('a padded (non-minimal) first tag falls back to decode + re-encode, keeping the meaning', () => {
  const valid = toBinary(ExportMetricsServiceRequestSchema, create(ExportMetricsServiceRequestSchema, { resourceMetrics: [{ schemaUrl: 'u' }] }));
  // Tag 0x0a written as two bytes 0x8a 0x00.
  const padded = Uint8Array.from([0x8a, 0x00, ...valid.subarray(1)]);
  const m = rawMessage(ExportMetricsServiceRequestSchema, padded);
  assert.equal(toBinary(ExportMetricsServiceRequestSchema, m), valid);
  assert.equal(fromBinary(ExportMetricsServiceRequestSchema, valid).resourceMetrics[0]!.schemaUrl, 'u');
});

test('a body that is not protobuf at all throws', () => {
  assert.throws(() => rawMessage(ExportMetricsServiceRequestSchema, Uint8Array.from([0x07, 0x01])));
});

test.run();
