/**
 * The protocols, one table: what each protocol encodes bodies as, which transport module
 * carries it, which URL schemes an endpoint may be written with, how its options are checked
 * and how its transport is built. The library's backends (export/transport-factory.ts) and the
 * gateway's upstreams (gateway/config/upstreams.ts, gateway/forward/upstream.ts) both go
 * through here; a new protocol is one row. The three OTLP protocols ({@link Protocol}) are what
 * the library and `OTEL_EXPORTER_OTLP_PROTOCOL` name; the gateway's upstreams may also use the two
 * Prometheus rows ({@link UpstreamProtocol}): remote write (push) and a scrape page (pull), whose
 * transports take OTLP metrics requests like every other and translate them.
 *
 * The transport modules are loaded with dynamic `import()` only (never a value import here):
 * undici and connect-node cost ~80 and ~110 ms to import, so the main entry, the gateway CLI
 * and the HTTP transport must not load them before a protocol that needs them is used
 * (test/layering.test.ts checks it).
 */
import type * as GrpcTransportModule from './grpc.js';
import type * as HttpTransportModule from './http.js';
import type * as RemoteWriteTransportModule from './prometheus/remote-write.js';
import type { RemoteWriteExtras } from './prometheus/remote-write.js';
import type * as ScrapeTransportModule from './prometheus/scrape.js';
import type { ScrapeTransportOptions } from './prometheus/scrape.js';
import type { OtlpTransportOptions } from './options.js';
import { validateTransportOptions } from './options.js';
import type { Encoding, Transport } from './types.js';

/** OTLP transport and encoding, named as `OTEL_EXPORTER_OTLP_PROTOCOL` names them. */
export type Protocol = 'grpc' | 'http/protobuf' | 'http/json';

/** A protocol a gateway upstream may use: OTLP's, Prometheus remote write, or a Prometheus scrape page. */
export type UpstreamProtocol = Protocol | 'prometheus/remote-write' | 'prometheus/scrape';

/** The transport module that carries a protocol. */
export type TransportKind = 'grpc' | 'http' | 'remote-write' | 'scrape';

/** What one protocol is. */
export interface ProtocolSpec {
  /** Encoding of request and response bodies. */
  readonly encoding: Encoding;
  /** Module that carries it (transport/grpc.ts or transport/http.ts). */
  readonly transport: TransportKind;
  /**
   * URL schemes an endpoint of this protocol may use. `http`/`https` are what the transports
   * take; `grpc`/`grpcs` are the gateway's spelling of OTLP/gRPC (h2c/TLS), see {@link URL_SCHEMES}.
   */
  readonly schemes: readonly UrlScheme[];
}

/** Every protocol: OTLP's in the order the spec lists them, then Prometheus's. */
export const PROTOCOLS: Readonly<Record<UpstreamProtocol, ProtocolSpec>> = Object.freeze({
  grpc: Object.freeze({ encoding: 'protobuf', transport: 'grpc', schemes: Object.freeze(['grpc', 'grpcs', 'http', 'https'] as const) }),
  'http/protobuf': Object.freeze({ encoding: 'protobuf', transport: 'http', schemes: Object.freeze(['http', 'https'] as const) }),
  'http/json': Object.freeze({ encoding: 'json', transport: 'http', schemes: Object.freeze(['http', 'https'] as const) }),
  // Takes OTLP protobuf metrics requests; sends snappy-compressed WriteRequests to the endpoint URL as given.
  'prometheus/remote-write': Object.freeze({
    encoding: 'protobuf',
    transport: 'remote-write',
    schemes: Object.freeze(['http', 'https', 'prometheus+http', 'prometheus+https'] as const),
  }),
  // Takes OTLP protobuf metrics requests into a store that a local page serves; no endpoint to send to.
  'prometheus/scrape': Object.freeze({ encoding: 'protobuf', transport: 'scrape', schemes: Object.freeze([] as const) }),
});

/** The OTLP protocol names (the library's, OTEL_EXPORTER_OTLP_PROTOCOL's), for validation messages and `oneOf` checks. */
export const PROTOCOL_NAMES: readonly Protocol[] = Object.freeze(['grpc', 'http/protobuf', 'http/json'] as const);

/** What a gateway upstream's `protocol:` may name: the OTLP protocols and Prometheus remote write (a scrape page is `kind: prometheus`). */
export const UPSTREAM_PROTOCOL_NAMES: readonly UpstreamProtocol[] = Object.freeze([...PROTOCOL_NAMES, 'prometheus/remote-write'] as const);

/** A URL scheme an endpoint may be written with (`prometheus+http(s)`: remote write, the gateway's `--forward` spelling). */
export type UrlScheme = 'grpc' | 'grpcs' | 'http' | 'https' | 'prometheus+http' | 'prometheus+https';

/**
 * What an endpoint's scheme says: whether it is TLS, and the protocol it implies when none is
 * given (`grpc://` and `grpcs://` are OTLP/gRPC; `http://` and `https://` are OTLP/HTTP
 * protobuf, the spec's default).
 */
export const URL_SCHEMES: Readonly<Record<UrlScheme, { readonly secure: boolean; readonly protocol: UpstreamProtocol }>> = Object.freeze({
  grpc: Object.freeze({ secure: false, protocol: 'grpc' }),
  grpcs: Object.freeze({ secure: true, protocol: 'grpc' }),
  http: Object.freeze({ secure: false, protocol: 'http/protobuf' }),
  https: Object.freeze({ secure: true, protocol: 'http/protobuf' }),
  'prometheus+http': Object.freeze({ secure: false, protocol: 'prometheus/remote-write' }),
  'prometheus+https': Object.freeze({ secure: true, protocol: 'prometheus/remote-write' }),
});

/** The OTLP/HTTP protocol of a body encoding (what an HTTP receiver saw by Content-Type). */
export const HTTP_PROTOCOL: Readonly<Record<Encoding, Protocol>> = Object.freeze({ protobuf: 'http/protobuf', json: 'http/json' });

/** The transport modules a set of protocols needs; a module not needed is undefined. */
export interface TransportModules {
  readonly grpc: typeof GrpcTransportModule | undefined;
  readonly http: typeof HttpTransportModule | undefined;
  readonly 'remote-write'?: typeof RemoteWriteTransportModule | undefined;
  readonly scrape?: typeof ScrapeTransportModule | undefined;
}

/** Loads the transport modules `protocols` use, and only those. */
export async function loadTransportModules(protocols: Iterable<UpstreamProtocol>): Promise<TransportModules> {
  const kinds = new Set<TransportKind>();
  for (const p of protocols) kinds.add(PROTOCOLS[p].transport);
  const [grpc, http, remoteWrite, scrape] = await Promise.all([
    kinds.has('grpc') ? import('./grpc.js') : undefined,
    kinds.has('http') ? import('./http.js') : undefined,
    kinds.has('remote-write') ? import('./prometheus/remote-write.js') : undefined,
    kinds.has('scrape') ? import('./prometheus/scrape.js') : undefined,
  ]);
  return { grpc, http, 'remote-write': remoteWrite, scrape };
}

/** `loaded` over `held`: the modules either has. */
export function mergeTransportModules(held: TransportModules, loaded: TransportModules): TransportModules {
  return {
    grpc: held.grpc ?? loaded.grpc,
    http: held.http ?? loaded.http,
    'remote-write': held['remote-write'] ?? loaded['remote-write'],
    scrape: held.scrape ?? loaded.scrape,
  };
}

/** The options of a protocol's transport: OTLP's, plus what the Prometheus rows take. */
export interface ProtocolTransportOptions extends OtlpTransportOptions {
  /** `prometheus/remote-write`: external labels and shards. Default: none, 1. */
  readonly remoteWrite?: RemoteWriteExtras;
  /** `prometheus/scrape`: the page (required for that protocol). */
  readonly scrape?: ScrapeTransportOptions;
}

/**
 * Checks `options` for `protocol` without loading its transport; throws TransportOptionError
 * naming the field, the value and what is allowed.
 */
export function validateProtocolOptions(protocol: UpstreamProtocol, options: OtlpTransportOptions): void {
  const kind = PROTOCOLS[protocol].transport;
  if (kind === 'scrape') return; // nothing to connect to: the gateway's config checks the page's options
  // Remote write posts to its endpoint as given, as an OTLP/HTTP per-signal endpoint is.
  if (kind === 'remote-write') validateTransportOptions(remoteWriteOptions(options), 'http');
  else validateTransportOptions(options, kind);
}

/** Remote write's options as the HTTP option checker reads them: the endpoint is the metrics URL, as given. */
export function remoteWriteOptions(options: OtlpTransportOptions): OtlpTransportOptions {
  const { endpoint, ...rest } = options;
  return endpoint === undefined ? rest : { ...rest, signalEndpoints: { metrics: endpoint } };
}

/**
 * Creates the transport of `protocol` from loaded `modules` (see {@link loadTransportModules});
 * the HTTP body encoding comes from the protocol. Throws TransportOptionError on bad options.
 */
export function createProtocolTransport(protocol: UpstreamProtocol, options: ProtocolTransportOptions, modules: TransportModules): Transport {
  const spec = PROTOCOLS[protocol];
  const { remoteWrite, scrape, ...otlp } = options;
  switch (spec.transport) {
    case 'grpc':
      return loaded(modules.grpc, protocol).createOtlpGrpcTransport(otlp);
    case 'http':
      return loaded(modules.http, protocol).createOtlpHttpTransport({ ...otlp, encoding: spec.encoding });
    case 'remote-write':
      return loaded(modules['remote-write'], protocol).createRemoteWriteTransport({ ...remoteWriteOptions(otlp), ...remoteWrite });
    case 'scrape':
      if (scrape === undefined) throw new Error('a prometheus/scrape transport needs its page options (scrape)');
      return loaded(modules.scrape, protocol).createScrapeTransport(scrape);
  }
}

function loaded<T>(module: T | undefined, protocol: UpstreamProtocol): T {
  if (module === undefined) throw new Error(`the ${protocol} transport module was not loaded (loadTransportModules)`);
  return module;
}
