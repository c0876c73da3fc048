/**
 * One upstream: a transport for its protocol behind its own backend (bounded queue,
 * retry, isolation; src/export/backend.ts).
 */
import { createBackend } from '../export/backend.js';
import type { Backend } from '../export/backend.js';
import { lazyTransport } from '../export/transport-factory.js';
import { validateTransportOptions } from '../transport/options.js';
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
  const t = transport ?? upstreamTransport(config);
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

/**
 * The upstream's transport, its module (connect-node for gRPC, undici for HTTP) loaded on the
 * first forwarded request: a gateway that never forwards over one of them does not pay its import
 * time and heap (~3.7 MiB for connect, ~4.6 MiB for undici). Options are checked now.
 */
function upstreamTransport(config: UpstreamConfig): Transport {
  const common = {
    endpoint: config.endpoint,
    headers: config.headers,
    compression: config.compression,
    timeoutMillis: config.timeoutMillis,
    tls: config.tls,
  };
  if (config.protocol === 'grpc') {
    validateTransportOptions(common, 'grpc');
    return lazyTransport('protobuf', async () => (await import('../transport/grpc.js')).createOtlpGrpcTransport(common));
  }
  const options = { ...common, encoding: config.protocol === 'http/json' ? ('json' as const) : ('protobuf' as const) };
  validateTransportOptions(options, 'http');
  return lazyTransport(options.encoding, async () => (await import('../transport/http.js')).createOtlpHttpTransport(options));
}
