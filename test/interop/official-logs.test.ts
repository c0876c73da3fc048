/**
 * Conformance, direction 1 (logs): the official OTLP log exporters, driven by a LoggerProvider
 * with SimpleLogRecordProcessor, send to our receiver; every record decoded with our gen/ schema
 * must equal the SDK's ReadableLogRecord, field by field.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { AnyValue, KeyValue } from '../../gen/opentelemetry/proto/common/v1/common_pb.js';
import type { LogRecord } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { SeverityNumber } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { ofSignal, startReceiver } from '../support/receiver.js';
import type { Receiver, ReceiverProtocol } from '../support/receiver.js';
import { hex, nLogsRequests, nSdkLogRecords } from './normalize.js';
import type { NLogRecord } from './normalize.js';
import { officialLogExporter, PROTOCOLS } from './official-exporters.js';
import { emitOfficialLogs, RESOURCE_SCHEMA_URL, SCOPE_SCHEMA_URL } from './official-sdk.js';

const test = suite('interop/official log exporters → our receiver');

let rx: Receiver;
let sdk: ReadableLogRecord[];

// All three exporters hang off one LoggerProvider, so they send the very same records.
test.before(async () => {
  rx = await startReceiver();
  sdk = await emitOfficialLogs(PROTOCOLS.map((p) => officialLogExporter(p, rx)));
});

test.after(async () => {
  await rx.close();
});

const byTime = (a: NLogRecord, b: NLogRecord): number => (BigInt(a.time) < BigInt(b.time) ? -1 : 1);

function received(protocol: ReceiverProtocol): LogRecord[] {
  return rx.requests
    .filter(ofSignal('logs', protocol))
    .flatMap((r) => r.message.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)))
    .sort((a, b) => (a.timeUnixNano < b.timeUnixNano ? -1 : 1));
}

function attr(kvs: readonly KeyValue[], key: string): AnyValue | undefined {
  return kvs.find((kv) => kv.key === key)?.value;
}

function bodyOf(records: readonly LogRecord[], kind: string): AnyValue['value'] | undefined {
  return records.find((r) => attr(r.attributes, 'body.kind')?.value.value === kind)?.body?.value;
}

for (const protocol of PROTOCOLS) {
  test(`${protocol}: every record arrives unchanged`, () => {
    // SimpleLogRecordProcessor sends one request per record, possibly out of order; forceFlush
    // waited for every answer, and the receiver records a request before answering it.
    const requests = rx.requests.filter(ofSignal('logs', protocol));
    assert.is(requests.length, sdk.length);
    assert.is(sdk.length, 11);
    assert.equal(nLogsRequests(requests.map((r) => r.message)).sort(byTime), nSdkLogRecords(sdk).sort(byTime));
    for (const r of requests) {
      assert.is(r.message.resourceLogs[0]?.schemaUrl, RESOURCE_SCHEMA_URL);
      const sl = r.message.resourceLogs[0]?.scopeLogs[0];
      assert.is(sl?.schemaUrl, SCOPE_SCHEMA_URL);
      assert.is(sl?.scope?.name, 'interop.logs');
      assert.is(sl?.scope?.version, '0.9.0');
      assert.equal(attr(sl?.scope?.attributes ?? [], 'scope.int')?.value, { case: 'intValue', value: 7n });
      assert.equal(attr(sl?.scope?.attributes ?? [], 'scope.double')?.value, { case: 'doubleValue', value: 7.5 });
      if (protocol !== 'grpc') assert.is(r.headers['x-interop'], 'official');
    }
  });

  test(`${protocol}: bodies of every AnyValue kind, severity, event name, ids and flags`, () => {
    const records = received(protocol);
    assert.equal(bodyOf(records, 'string'), { case: 'stringValue', value: 'user logged in' });
    assert.equal(bodyOf(records, 'bool'), { case: 'boolValue', value: true });
    assert.equal(bodyOf(records, 'int'), { case: 'intValue', value: 42n });
    assert.equal(bodyOf(records, 'int.negative'), { case: 'intValue', value: -9007199254740991n });
    assert.equal(bodyOf(records, 'double'), { case: 'doubleValue', value: 3.5 });
    assert.equal(bodyOf(records, 'bytes'), { case: 'bytesValue', value: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) });
    const array = bodyOf(records, 'array');
    assert.is(array?.case, 'arrayValue');
    if (array?.case === 'arrayValue') {
      assert.equal(
        array.value.values.map((v) => v.value.case),
        ['stringValue', 'intValue', 'doubleValue', 'boolValue', 'bytesValue', 'arrayValue', 'kvlistValue'],
      );
    }
    const kv = bodyOf(records, 'kvlist');
    assert.is(kv?.case, 'kvlistValue');
    if (kv?.case === 'kvlistValue') {
      const user = attr(kv.value.values, 'user')?.value;
      assert.is(user?.case, 'kvlistValue');
      if (user?.case === 'kvlistValue') assert.equal(attr(user.value.values, 'id')?.value, { case: 'intValue', value: 17n });
    }

    const first = records[0]!;
    assert.is(first.timeUnixNano, 1_700_000_000_000_000_100n);
    assert.is(first.observedTimeUnixNano, 1_700_000_000_000_000_200n);
    assert.is(first.severityNumber, SeverityNumber.INFO);
    assert.is(first.severityText, 'INFO1');
    assert.is(hex(first.traceId), '5b8efff798038103d269b633813fc60c');
    assert.is(hex(first.spanId), 'eee19b7ec3c1b174');
    assert.is(first.flags, 1);

    const event = records.find((r) => r.eventName === 'user.login')!;
    assert.is(event.severityNumber, SeverityNumber.WARN);
    assert.is(event.flags, 0, 'unsampled context');
    assert.is(hex(event.spanId), '00f067aa0ba902b7');
    assert.equal(attr(event.attributes, 'log.bytes')?.value, { case: 'bytesValue', value: new Uint8Array([0, 1, 254, 255]) });
    assert.equal(attr(event.attributes, 'log.int')?.value, { case: 'intValue', value: -123456789n });

    const limited = records.find((r) => r.severityNumber === SeverityNumber.FATAL4)!;
    assert.is(limited.attributes.length, 10);
    assert.is(limited.droppedAttributesCount, 2);
    // The official JSON serializer writes an absent body as `{}`, protobuf omits it: both mean empty.
    assert.is(limited.body?.value.case, undefined);

    const empty = records[records.length - 1]!;
    assert.is(empty.severityNumber, SeverityNumber.UNSPECIFIED);
    assert.is(empty.severityText, '');
    assert.is(empty.body?.value.case, undefined);
    assert.is(empty.traceId.length, 0);
    assert.is(empty.spanId.length, 0);
    assert.is(empty.flags, 0);
  });
}

test.run();
