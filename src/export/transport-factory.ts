/**
 * Builds the transport of one resolved backend target. The config layer has already
 * resolved the final URL per signal, so HTTP targets are passed as per-signal endpoints
 * (used as given) and gRPC targets as an origin.
 *
 * The transport modules are loaded on the first export, not at start-up: undici and
 * connect-node cost ~80 and ~110 ms to import, which an application with no backend, or
 * with only one kind, should not pay. Options are still validated synchronously here, so
 * a bad option fails `createTelemetry()` as before. For the same reason an OTLP/JSON target
 * takes protobuf like the others and converts when it sends: the converter needs protobuf-es
 * reflection and the generated schemas, which the main entry does not load.
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
  if (PROTOCOLS[protocol].encoding === 'protobuf') {
    return lazyTransport(async () => createProtocolTransport(protocol, options, await loadTransportModules([protocol])));
  }
  // Queued as protobuf like every other backend, converted when sent (see protobufOverJson).
  return lazyTransport(async () => {
    const [modules, json] = await Promise.all([loadTransportModules([protocol]), import('../transport/json-body.js')]);
    return json.protobufOverJson(createProtocolTransport(protocol, options, modules));
  });
}

/**
 * A transport created by `load()` on its first export; close() before that closes nothing.
 * It takes protobuf, as every backend built by `createTelemetry()` does (fanout.ts).
 */
function lazyTransport(load: () => Promise<Transport>): Transport {
  let real: Promise<Transport> | undefined;
  const encoding: Encoding = 'protobuf';
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
