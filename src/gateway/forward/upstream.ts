/**
 * One upstream: a transport for its protocol behind its own backend (bounded queue,
 * retry, isolation; src/export/backend.ts).
 */
import { createBackend } from '../../export/backend.js';
import type { Backend } from '../../export/backend.js';
import type * as GrpcTransportModule from '../../transport/grpc.js';
import type * as HttpTransportModule from '../../transport/http.js';
import type { Encoding, Transport } from '../../transport/types.js';
import type { UpstreamConfig } from '../config/upstreams.js';
import type { UpstreamView } from '../observe/events.js';

/** An upstream as the gateway uses it; also the observer's read-only view of it. */
export interface Upstream extends UpstreamView {
  readonly config: UpstreamConfig;
  readonly encoding: Encoding;
  readonly backend: Backend;
}

/** The transport modules a set of upstreams needs; see {@link loadTransports}. */
export interface TransportModules {
  readonly grpc: typeof GrpcTransportModule | undefined;
  readonly http: typeof HttpTransportModule | undefined;
}

/**
 * Loads the transport modules these upstreams use, and only those: a gateway with no HTTP upstream
 * never loads undici (idle heap 8.7 instead of 12.7 MiB, bench/gateway-startup.ts), one with no gRPC
 * upstream and no gRPC receiver never loads connect. Loaded at start-up, not on the first forwarded
 * request: loading them under load cost ~30 MiB more RSS and ~15% more CPU for the whole run in the
 * gateway benchmark (BENCHMARKS.md, Gateway), for reasons in Node's loader we did not chase.
 */
export async function loadTransports(configs: readonly UpstreamConfig[]): Promise<TransportModules> {
  const [grpc, http] = await Promise.all([
    configs.some((c) => c.protocol === 'grpc') ? import('../../transport/grpc.js') : undefined,
    configs.some((c) => c.protocol !== 'grpc') ? import('../../transport/http.js') : undefined,
  ]);
  return { grpc, http };
}

/** Creates the transport and the backend of an upstream; throws TransportOptionError on bad options. */
export function createUpstream(config: UpstreamConfig, modules: TransportModules, transport?: Transport): Upstream {
  const t = transport ?? upstreamTransport(config, modules);
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

/** The upstream's transport, from the modules {@link loadTransports} loaded for it. */
function upstreamTransport(config: UpstreamConfig, modules: TransportModules): Transport {
  const common = {
    endpoint: config.endpoint,
    headers: config.headers,
    compression: config.compression,
    timeoutMillis: config.timeoutMillis,
    tls: config.tls,
  };
  if (config.protocol === 'grpc') return required(modules.grpc, 'grpc').createOtlpGrpcTransport(common);
  return required(modules.http, 'http').createOtlpHttpTransport({ ...common, encoding: config.protocol === 'http/json' ? 'json' : 'protobuf' });
}

function required<T>(module: T | undefined, name: string): T {
  if (module === undefined) throw new Error(`the ${name} transport was not loaded for this upstream (loadTransports)`);
  return module;
}
