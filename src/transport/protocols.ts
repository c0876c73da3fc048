/**
 * The OTLP protocols, one table: what each protocol encodes bodies as, which transport module
 * carries it, which URL schemes an endpoint may be written with, how its options are checked
 * and how its transport is built. The library's backends (export/transport-factory.ts) and the
 * gateway's upstreams (gateway/config/upstreams.ts, gateway/forward/upstream.ts) both go
 * through here; a new protocol is one row.
 *
 * The transport modules are loaded with dynamic `import()` only (never a value import here):
 * undici and connect-node cost ~80 and ~110 ms to import, so the main entry, the gateway CLI
 * and the HTTP transport must not load them before a protocol that needs them is used
 * (test/layering.test.ts checks it).
 */
import type * as GrpcTransportModule from './grpc.js';
import type * as HttpTransportModule from './http.js';
import type { OtlpTransportOptions } from './options.js';
import { validateTransportOptions } from './options.js';
import type { Encoding, Transport } from './types.js';

/** OTLP transport and encoding, named as `OTEL_EXPORTER_OTLP_PROTOCOL` names them. */
export type Protocol = 'grpc' | 'http/protobuf' | 'http/json';

/** The transport module that carries a protocol. */
export type TransportKind = 'grpc' | 'http';

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

/** Every protocol, in the order the spec lists them. */
export const PROTOCOLS: Readonly<Record<Protocol, ProtocolSpec>> = Object.freeze({
  grpc: Object.freeze({ encoding: 'protobuf', transport: 'grpc', schemes: Object.freeze(['grpc', 'grpcs', 'http', 'https'] as const) }),
  'http/protobuf': Object.freeze({ encoding: 'protobuf', transport: 'http', schemes: Object.freeze(['http', 'https'] as const) }),
  'http/json': Object.freeze({ encoding: 'json', transport: 'http', schemes: Object.freeze(['http', 'https'] as const) }),
});

/** The protocol names, for validation messages and `oneOf` checks. */
export const PROTOCOL_NAMES: readonly Protocol[] = Object.freeze(Object.keys(PROTOCOLS) as Protocol[]);

/** A URL scheme an OTLP endpoint may be written with. */
export type UrlScheme = 'grpc' | 'grpcs' | 'http' | 'https';

/**
 * What an endpoint's scheme says: whether it is TLS, and the protocol it implies when none is
 * given (`grpc://` and `grpcs://` are OTLP/gRPC; `http://` and `https://` are OTLP/HTTP
 * protobuf, the spec's default).
 */
export const URL_SCHEMES: Readonly<Record<UrlScheme, { readonly secure: boolean; readonly protocol: Protocol }>> = Object.freeze({
  grpc: Object.freeze({ secure: false, protocol: 'grpc' }),
  grpcs: Object.freeze({ secure: true, protocol: 'grpc' }),
  http: Object.freeze({ secure: false, protocol: 'http/protobuf' }),
  https: Object.freeze({ secure: true, protocol: 'http/protobuf' }),
});

/** The OTLP/HTTP protocol of a body encoding (what an HTTP receiver saw by Content-Type). */
export const HTTP_PROTOCOL: Readonly<Record<Encoding, Protocol>> = Object.freeze({ protobuf: 'http/protobuf', json: 'http/json' });

/** The transport modules a set of protocols needs; a module not needed is undefined. */
export interface TransportModules {
  readonly grpc: typeof GrpcTransportModule | undefined;
  readonly http: typeof HttpTransportModule | undefined;
}

/** Loads the transport modules `protocols` use, and only those. */
export async function loadTransportModules(protocols: Iterable<Protocol>): Promise<TransportModules> {
  const kinds = new Set<TransportKind>();
  for (const p of protocols) kinds.add(PROTOCOLS[p].transport);
  const [grpc, http] = await Promise.all([kinds.has('grpc') ? import('./grpc.js') : undefined, kinds.has('http') ? import('./http.js') : undefined]);
  return { grpc, http };
}

/**
 * Checks `options` for `protocol` without loading its transport; throws TransportOptionError
 * naming the field, the value and what is allowed.
 */
export function validateProtocolOptions(protocol: Protocol, options: OtlpTransportOptions): void {
  validateTransportOptions(options, PROTOCOLS[protocol].transport);
}

/**
 * Creates the transport of `protocol` from loaded `modules` (see {@link loadTransportModules});
 * the HTTP body encoding comes from the protocol. Throws TransportOptionError on bad options.
 */
export function createProtocolTransport(protocol: Protocol, options: OtlpTransportOptions, modules: TransportModules): Transport {
  const spec = PROTOCOLS[protocol];
  if (spec.transport === 'grpc') return loaded(modules.grpc, protocol).createOtlpGrpcTransport(options);
  return loaded(modules.http, protocol).createOtlpHttpTransport({ ...options, encoding: spec.encoding });
}

function loaded<T>(module: T | undefined, protocol: Protocol): T {
  if (module === undefined) throw new Error(`the ${protocol} transport module was not loaded (loadTransportModules)`);
  return module;
}
