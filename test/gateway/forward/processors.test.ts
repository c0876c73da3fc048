/**
 * Processors end to end, on loopback: a gateway with a route chain and an upstream chain.
 * The upstream with processors receives the edited resources (route processors first, then
 * its own), a JSON upstream with the same chain the same edit as JSON, the upstream
 * without processors the received bytes, byte for byte, and one whose filter drops every record
 * nothing.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { ExportLogsServiceRequestSchema } from '../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import type { ExportLogsServiceRequest } from '../../../gen/opentelemetry/proto/collector/logs/v1/logs_service_pb.js';
import { ofSignal, startReceiver } from '../../support/receiver.js';
import type { Receiver } from '../../support/receiver.js';
import { bin, grpcEndpoint, JSON_TYPE, json, post, PROTOBUF, startTestGateway } from '../harness.js';
import type { TestGateway } from '../harness.js';

const test = suite('gateway/forward: processors');

let central: Receiver;
let mirror: Receiver;
let plain: Receiver;
let gw: TestGateway;

const edits = [
  { action: 'upsert', key: 'deployment.environment.name', value: 'prod' },
  { action: 'hash', key: 'user.email' },
  { action: 'delete', key: 'host.ip' },
];

test.before(async () => {
  [central, mirror, plain] = await Promise.all([startReceiver({ grpc: false }), startReceiver({ grpc: false }), startReceiver({ http: false })]);
  gw = await startTestGateway({
    upstreams: {
      central: { endpoint: central.httpUrl, processors: [{ resource: edits }] },
      mirror: { endpoint: `${mirror.httpUrl}?encoding=json`, processors: [{ resource: edits }] },
      plain: { endpoint: grpcEndpoint(plain.grpcUrl) },
      // Its filter drops every record: nothing is ever sent to it (nothing listens there).
      quiet: { endpoint: 'http://127.0.0.1:9', processors: [{ filter: { logs: { bodies: ['hel*'] } } }] },
    },
    routes: [
      {
        name: 'eu',
        match: { 'cloud.region': 'eu-*' },
        upstreams: ['central'],
        processors: [{ resource: [{ action: 'insert', key: 'region.group', value: 'eu' }] }],
      },
      { name: 'all', upstreams: ['central', 'mirror', 'plain', 'quiet'] },
    ],
  });
});

test.after(async () => {
  await gw.close();
  await Promise.all([central.close(), mirror.close(), plain.close()]);
});

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function request(): ExportLogsServiceRequest {
  const records = [{ logRecords: [{ timeUnixNano: 5n, body: str('hello') }] }];
  return create(ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str('checkout') },
            { key: 'cloud.region', value: str('eu-west-1') },
            { key: 'user.email', value: str('alice@example.com') },
            { key: 'host.ip', value: str('10.0.0.7') },
          ],
        },
        scopeLogs: records,
      },
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str('cart') },
            { key: 'cloud.region', value: str('us-east-1') },
          ],
        },
        scopeLogs: records,
      },
    ],
  });
}

/** The attributes of each resource, as [key, string value] pairs. */
const attributes = (m: ExportLogsServiceRequest) =>
  m.resourceLogs.map((r) => r.resource!.attributes.map((kv) => [kv.key, kv.value?.value.case === 'stringValue' ? kv.value.value.value : '?']));

const centralWants = [
  [
    ['service.name', 'checkout'],
    ['cloud.region', 'eu-west-1'],
    ['user.email', sha256('alice@example.com')],
    ['region.group', 'eu'],
    ['deployment.environment.name', 'prod'],
  ],
  [
    ['service.name', 'cart'],
    ['cloud.region', 'us-east-1'],
    ['deployment.environment.name', 'prod'],
  ],
];
const mirrorWants = [centralWants[0]!.filter(([k]) => k !== 'region.group'), centralWants[1]!];

for (const input of ['http/protobuf', 'http/json'] as const) {
  test(`${input} in: edited where processors are configured, the received bytes elsewhere`, async () => {
    for (const r of [central, mirror, plain]) r.clear();
    gw.seen.forwarded.length = 0;
    const message = request();
    const body = bin.logs(message);
    const res = await post(`${gw.httpUrl}/v1/logs`, input === 'http/json' ? json.logs(message) : body, input === 'http/json' ? JSON_TYPE : PROTOBUF);
    assert.is(res.status, 200);
    await res.arrayBuffer();
    const [c, m, p] = await Promise.all([central.waitFor(ofSignal('logs')), mirror.waitFor(ofSignal('logs')), plain.waitFor(ofSignal('logs'))]);
    assert.equal(attributes(c.message), centralWants, 'route eu (entry 0 only), then the upstream edits');
    assert.is(m.protocol, 'http/json');
    assert.equal(attributes(m.message), mirrorWants, 'the upstream edits only, as JSON');
    assert.equal(c.message.resourceLogs[0]!.scopeLogs, message.resourceLogs[0]!.scopeLogs, 'the rest of the entry as it was');
    assert.ok(Buffer.from(p.bytes).equals(Buffer.from(body)), 'no processors: the received bytes (or their one protobuf encoding), byte for byte');
    const ways = Object.fromEntries(gw.seen.forwarded.map((f) => [f.upstream, f.body]));
    assert.equal(
      ways,
      { central: 'processed', mirror: 'processed', plain: input === 'http/json' ? 'reencoded' : 'as_received' },
      'quiet: filtered out, not sent',
    );
  });
}

test.run();
