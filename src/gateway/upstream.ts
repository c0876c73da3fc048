/**
 * One upstream: a transport for its protocol behind its own backend (bounded queue,
 * retry, isolation; src/export/backend.ts).
 */
import { createBackend } from '../export/backend.js';
import type { Backend } from '../export/backend.js';
import { createOtlpGrpcTransport } from '../transport/grpc.js';
import { createOtlpHttpTransport } from '../transport/http.js';
import type { Encoding, Transport } from '../transport/types.js';
import type { UpstreamConfig } from './config.js';
import type { UpstreamView } from './events.js';

/** An upstream as the gateway uses it; also the observer's read-only view of it. */
export interface Upstream extends UpstreamView {
  readonly config: UpstreamConfig;
  readonly encoding: Encoding;
  readonly backend: Backend;
}

/** Creates the transport and the backend of an upstream; throws TransportOptionError on bad options. */
export function createUpstream(config: UpstreamConfig, transport?: Transport): Upstream {
  const common = {
    endpoint: config.endpoint,
    headers: config.headers,
    compression: config.compression,
    timeoutMillis: config.timeoutMillis,
    tls: config.tls,
  };
  const t =
    transport ??
    (config.protocol === 'grpc'
      ? createOtlpGrpcTransport(common)
      : createOtlpHttpTransport({ ...common, encoding: config.protocol === 'http/json' ? 'json' : 'protobuf' }));
  const backend = createBackend({
    name: config.name,
    transport: t,
    queue: config.queue,
    retry: config.retry,
    timeoutMillis: config.timeoutMillis,
    maxConcurrency: config.maxConcurrency,
    maxBatchBytes: config.batchMaxBytes,
  });
  return {
    name: config.name,
    endpoint: config.display,
    protocol: config.protocol,
    tenant: config.tenant,
    config,
    encoding: t.encoding,
    backend,
    latency: backend.latency,
    stats: () => backend.stats(),
  };
}
