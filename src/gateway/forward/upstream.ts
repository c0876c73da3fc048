/**
 * One upstream: a transport for its protocol behind its own backend (bounded queue,
 * retry, isolation; src/export/backend.ts).
 */
import { createBackend } from '../../export/backend.js';
import type { Backend, BackendOptions } from '../../export/backend.js';
import type { DurableQueue } from '../../export/durable-queue.js';
import { createProtocolTransport, loadTransportModules } from '../../transport/protocols.js';
import type { TransportModules } from '../../transport/protocols.js';
import type { Encoding, Transport } from '../../transport/types.js';
import type { UpstreamConfig } from '../config/upstreams.js';
import type { UpstreamView } from '../observe/events.js';

/** An upstream as the gateway uses it; also the observer's read-only view of it. */
export interface Upstream extends UpstreamView {
  readonly config: UpstreamConfig;
  readonly encoding: Encoding;
  readonly backend: Backend;
}

/**
 * Loads the transport modules these upstreams use, and only those: a gateway with no HTTP upstream
 * never loads undici (idle heap 8.7 instead of 12.7 MiB, bench/gateway-startup.ts), one with no gRPC
 * upstream and no gRPC receiver never loads connect. Loaded at start-up, not on the first forwarded
 * request: loading them under load cost ~30 MiB more RSS and ~15% more CPU for the whole run in the
 * gateway benchmark (BENCHMARKS.md, Gateway), for reasons in Node's loader we did not chase.
 */
export function loadTransports(configs: readonly UpstreamConfig[]): Promise<TransportModules> {
  return loadTransportModules(configs.map((c) => c.protocol));
}

/**
 * Creates the transport and the backend of an upstream; throws TransportOptionError on bad options.
 * With `storage`, its queue is the durable queue (its cursor must be open), else memory.
 */
export function createUpstream(config: UpstreamConfig, modules: TransportModules, transport?: Transport, storage?: DurableQueue): Upstream {
  const t = transport ?? upstreamTransport(config, modules);
  const options: BackendOptions = {
    name: config.name,
    transport: t,
    queue: config.queue,
    retry: config.retry,
    timeoutMillis: config.timeoutMillis,
    // Remote write: one request at a time, spread over maxConcurrency shards by the transport, so that
    // no series is ever sent by two deliveries at once (transport/prometheus/remote-write.ts).
    maxConcurrency: config.protocol === 'prometheus/remote-write' ? 1 : config.maxConcurrency,
    maxBatchBytes: config.batchMaxBytes,
  };
  const backend = storage === undefined ? createBackend(options) : storage.backend(options);
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
    health: () => ({ failing: backend.failing, lastError: backend.lastError }),
  };
}

/** The upstream's transport, from the modules {@link loadTransports} loaded for it. */
function upstreamTransport(config: UpstreamConfig, modules: TransportModules): Transport {
  const options = {
    endpoint: config.endpoint,
    headers: config.headers,
    compression: config.compression,
    timeoutMillis: config.timeoutMillis,
    tls: config.tls,
    ...(config.remoteWrite === undefined ? {} : { remoteWrite: { ...config.remoteWrite, shards: config.maxConcurrency } }),
    ...(config.scrape === undefined ? {} : { scrape: config.scrape }),
  };
  return createProtocolTransport(config.protocol, options, modules);
}
