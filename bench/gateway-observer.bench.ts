/**
 * Cost of the gateway observer on the request path: `onRequest` + `onForwarded` for one
 * accepted request of 100 points, one service, forwarded to 2 upstreams, at each verbosity
 * (detailed decodes and formats the request; its output goes to a discarding writer), and
 * a no-op observer as the floor. Run: `node --import tsx/esm bench/gateway-observer.bench.ts`
 * (flags: see bench/lib/harness.ts).
 */
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ForwardedEvent, GatewayObserver, RequestEvent } from '../src/gateway/observe/events.js';
import type { Verbosity } from '../src/gateway/config/gateway-config.js';
import { noopObserver } from '../src/gateway/observe/events.js';
import { createObserver } from '../src/gateway/observe/observer.js';
import { benchRequest, POINTS_PER_REQUEST } from './gateway-template.js';
import { runBench, type Op } from './lib/harness.js';

const { body } = benchRequest();

function event(): RequestEvent {
  // As the gateway does: decode on demand, cached per request; a fresh event per request.
  let decoded: ReturnType<RequestEvent['decode']> | undefined;
  return {
    signal: 'metrics',
    protocol: 'http/protobuf',
    tenant: undefined,
    serviceNames: ['bench-load'],
    items: POINTS_PER_REQUEST,
    bytes: body.length,
    wireBytes: body.length,
    upstreams: ['a', 'b'],
    unrouted: 0,
    body,
    encoding: 'protobuf',
    decode() {
      decoded ??= { signal: 'metrics', message: fromBinary(ExportMetricsServiceRequestSchema, body) };
      return decoded;
    },
  };
}

const forwardedA: ForwardedEvent = {
  upstream: 'a',
  signal: 'metrics',
  items: POINTS_PER_REQUEST,
  bytes: body.length,
  body: 'as_received',
  queued: true,
};
const forwardedB: ForwardedEvent = { ...forwardedA, upstream: 'b' };

function setup(o: GatewayObserver): Op {
  return () => {
    o.onForwarded?.(forwardedA);
    o.onForwarded?.(forwardedB);
    o.onRequest(event());
    return o;
  };
}

const observer = (verbosity: Verbosity) => () => setup(createObserver({ verbosity, intervalMillis: 0, out: { write: () => true } }));

await runBench(import.meta.url, {
  title: 'Gateway observer, per request (100 points, 2 upstreams)',
  ours: 'normal',
  cases: [
    {
      name: 'onForwarded ×2 + onRequest',
      itemsPerOp: 1,
      itemUnit: 'requests',
      impls: { normal: observer('normal'), basic: observer('basic'), detailed: observer('detailed'), noop: () => setup(noopObserver) },
    },
  ],
});
