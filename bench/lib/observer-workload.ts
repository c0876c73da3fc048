/**
 * What the gateway hands its observer per accepted request in the observer benches: the
 * benchmark's 100-point request, forwarded to 2 upstreams, as `onForwarded` × 2 then `onRequest`.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { ExportMetricsServiceRequestSchema } from '../../gen/opentelemetry/proto/collector/metrics/v1/metrics_service_pb.js';
import type { ForwardedEvent, GatewayObserver, RequestEvent } from '../../src/gateway/observe/events.js';
import { benchRequest, POINTS_PER_REQUEST } from '../gateway-template.js';
import type { Op } from './harness.js';

const { body } = benchRequest();

/** A fresh event per request, decoding on demand and cached, as the gateway does. */
function event(tenant: string | undefined): RequestEvent {
  let decoded: ReturnType<RequestEvent['decode']> | undefined;
  return {
    signal: 'metrics',
    protocol: 'http/protobuf',
    tenant,
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

/** One request's observer calls on `o`, as a bench op. */
export function observerOp(o: GatewayObserver, tenant?: string): Op {
  return () => {
    o.onForwarded?.(forwardedA);
    o.onForwarded?.(forwardedB);
    o.onRequest(event(tenant));
    return o;
  };
}
