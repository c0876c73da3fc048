import type { BackendStats } from '../../src/export/backend.js';
import type { UpstreamView } from '../../src/gateway/observe/events.js';
import { LatencyHistogram } from '../../src/internal/latency.js';

/** Backend counters, all zero except `s`. */
export function stats(name: string, s: Partial<BackendStats> = {}): BackendStats {
  return {
    name,
    itemsSent: 0,
    itemsRejected: 0,
    itemsFailed: 0,
    itemsDropped: 0,
    requestsSent: 0,
    requestsFailed: 0,
    retries: 0,
    queueBytes: 0,
    queueRequests: 0,
    inFlightRequests: 0,
    latencyP50Ms: 0,
    latencyP99Ms: 0,
    ...s,
  };
}

/** An upstream view whose stats a test sets through `current`. */
export function upstream(name: string, protocol: UpstreamView['protocol'] = 'grpc'): UpstreamView & { current: BackendStats } {
  const u = {
    name,
    endpoint: `http://127.0.0.1:9/${name}`,
    protocol,
    tenant: undefined,
    latency: new LatencyHistogram(),
    current: stats(name),
    stats: () => u.current,
  };
  return u;
}
