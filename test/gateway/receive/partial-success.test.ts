/**
 * One partial-success rule for both receivers (otlp/signals.ts, isPartialSuccess): the same
 * ingest outcome, sent through OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON and read back
 * by our own transports, gives the same ExportResult. Regression: the gRPC receiver set
 * `partial_success` only when items were rejected, the HTTP receiver also for a message with
 * none rejected (the spec's warning case), so a warning reached HTTP clients and not gRPC ones.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Ingest, IngestOutcome } from '../../../src/gateway/forward/ingest.js';
import type { GatewayObserver } from '../../../src/gateway/observe/events.js';
import type { Authenticator } from '../../../src/gateway/receive/authenticator.js';
import { startGrpcReceiver } from '../../../src/gateway/receive/grpc-receiver.js';
import { startHttpReceiver } from '../../../src/gateway/receive/http-receiver.js';
import type { ReceiverHandle } from '../../../src/gateway/receive/receiver.js';
import { SIGNALS } from '../../../src/otlp/signals.js';
import { createProtocolTransport, loadTransportModules, PROTOCOL_NAMES } from '../../../src/transport/protocols.js';
import type { ExportResult } from '../../../src/transport/types.js';

const test = suite('gateway/receive: one partial-success rule');

/** An ingest that accepts everything with the scripted outcome. */
function scriptedIngest(outcome: () => IngestOutcome): Ingest {
  return {
    admit: () => undefined,
    ingest: () => outcome(),
    queuedBytes: () => 0,
    draining: false,
  };
}

const auth: Authenticator = { authenticate: () => ({ kind: 'off' }) } as unknown as Authenticator;
const observer: GatewayObserver = { onRequest() {}, onRefused() {} };

// Step table: what the ingest decided → what every client must read.
const steps: ReadonlyArray<{ name: string; rejected: number; message: string; expected: ExportResult }> = [
  { name: 'full success', rejected: 0, message: '', expected: { kind: 'ok' } },
  {
    name: 'items rejected',
    rejected: 3,
    message: '3 items matched no route and were dropped',
    expected: { kind: 'partial', rejected: 3, message: '3 items matched no route and were dropped' },
  },
  { name: 'rejected without a message', rejected: 2, message: '', expected: { kind: 'partial', rejected: 2, message: '' } },
  { name: 'a warning, nothing rejected', rejected: 0, message: 'heads up', expected: { kind: 'partial', rejected: 0, message: 'heads up' } },
];

test('gRPC, HTTP protobuf and HTTP JSON give the same result for every outcome and signal', async () => {
  let current: IngestOutcome = { kind: 'accepted', rejected: 0, message: '' };
  const pipeline = { current: { auth, ingest: scriptedIngest(() => current), enter() {}, leave() {} } };
  const options = { maxRequestBytes: 1 << 20, pipeline, observer };
  const receivers: ReceiverHandle[] = [
    await startGrpcReceiver({ ...options, config: { host: '127.0.0.1', port: 0, tls: null }, httpUrl: () => undefined }),
    await startHttpReceiver({ ...options, config: { host: '127.0.0.1', port: 0, tls: null } }),
  ];
  const [grpcPort, httpPort] = receivers.map((r) => r.port);
  const modules = await loadTransportModules(PROTOCOL_NAMES);
  const transports = PROTOCOL_NAMES.map((p) => ({
    protocol: p,
    transport: createProtocolTransport(p, { endpoint: `http://127.0.0.1:${p === 'grpc' ? grpcPort : httpPort}` }, modules),
  }));
  try {
    for (const step of steps) {
      current = { kind: 'accepted', rejected: step.rejected, message: step.message };
      for (const signal of SIGNALS) {
        for (const { protocol, transport } of transports) {
          // An empty request is a valid one of every signal, in both encodings.
          const body = transport.encoding === 'json' ? new TextEncoder().encode('{}') : new Uint8Array(0);
          const result = await transport.export(signal, body);
          assert.equal(result, step.expected, `${step.name}: ${signal} over ${protocol}`);
        }
      }
    }
  } finally {
    await Promise.all(transports.map((t) => t.transport.close()));
    await Promise.all(receivers.map((r) => r.close()));
  }
});

test.run();
