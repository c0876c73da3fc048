/**
 * Builds the transport of one resolved backend target. The config layer has already
 * resolved the final URL per signal, so HTTP targets are passed as per-signal endpoints
 * (used as given) and gRPC targets as an origin.
 *
 * The transport modules are loaded on the first export, not at start-up: undici and
 * connect-node cost ~80 and ~110 ms to import, which an application with no backend, or
 * with only one kind, should not pay. Options are still validated synchronously here, so
 * a bad option fails `createTelemetry()` as before.
 */
import type { ResolvedTarget } from '../config/validate.js';
import type { ExportSignal } from '../config/options.js';
import type { OtlpTransportOptions, TlsOptions } from '../transport/options.js';
import { TransportError } from '../transport/errors.js';
import { createProtocolTransport, loadTransportModules, PROTOCOLS, validateProtocolOptions } from '../transport/protocols.js';
import type { Encoding, ExportResult, Transport } from '../transport/types.js';

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
  const protocol = target.protocol;
  const options: OtlpTransportOptions =
    PROTOCOLS[protocol].transport === 'grpc' ? { ...common, endpoint: target.url } : { ...common, signalEndpoints: { [signal]: target.url } };
  validateProtocolOptions(protocol, options);
  return lazyTransport(PROTOCOLS[protocol].encoding, async () => createProtocolTransport(protocol, options, await loadTransportModules([protocol])));
}

/** A transport created by `load()` on its first export; close() before that closes nothing. */
function lazyTransport(encoding: Encoding, load: () => Promise<Transport>): Transport {
  let real: Promise<Transport> | undefined;
  return {
    encoding,
    async export(signal, body, options): Promise<ExportResult> {
      let t: Transport;
      try {
        t = await (real ??= load());
      } catch (err) {
        return {
          kind: 'failed',
          retryable: false,
          error: new TransportError('internal', `could not load the ${encoding} transport: ${String(err)}`, undefined, { cause: err }),
        };
      }
      return t.export(signal, body, options);
    },
    async close() {
      if (real === undefined) return;
      const t = await real.catch(() => undefined);
      await t?.close();
    },
  };
}
