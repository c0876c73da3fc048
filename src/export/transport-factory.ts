/**
 * Builds the transport of one resolved backend target. The config layer has already
 * resolved the final URL per signal, so HTTP targets are passed as per-signal endpoints
 * (used as given) and gRPC targets as an origin.
 */
import type { ResolvedTarget } from '../config/validate.js';
import type { ExportSignal } from '../config/options.js';
import { createOtlpGrpcTransport } from '../transport/grpc.js';
import { createOtlpHttpTransport } from '../transport/http.js';
import type { TlsOptions } from '../transport/options.js';
import type { Transport } from '../transport/types.js';

export function createTargetTransport(signal: ExportSignal, target: ResolvedTarget, maxRequestBytes: number): Transport {
  const tls: TlsOptions = {
    insecure: target.tls.insecure,
    ...(target.tls.ca === undefined ? {} : { ca: target.tls.ca }),
    ...(target.tls.cert === undefined ? {} : { cert: target.tls.cert }),
    ...(target.tls.key === undefined ? {} : { key: target.tls.key }),
  };
  const common = {
    headers: target.headers,
    compression: target.compression,
    timeoutMillis: target.timeoutMillis,
    tls,
    maxRequestBytes,
  };
  if (target.protocol === 'grpc') return createOtlpGrpcTransport({ ...common, endpoint: target.url });
  return createOtlpHttpTransport({
    ...common,
    signalEndpoints: { [signal]: target.url },
    encoding: target.protocol === 'http/json' ? 'json' : 'protobuf',
  });
}
