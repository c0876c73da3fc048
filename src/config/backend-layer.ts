/**
 * One source's view of a backend (the environment's, or the code's), already checked value by
 * value. The resolver stacks layers (code over environment; per signal over backend-wide)
 * and fills defaults. Every value that may fail later (a file to read, an endpoint to combine)
 * keeps the variable or option path that set it, so messages can name it.
 */
import type { BackendKind, Compression, ExportSignal, Protocol, Temporality } from './options.js';
import type { EndpointSetting } from './endpoint.js';

/** PEM material: given inline (code) or as a file path (environment, or code `*File`). */
export interface PemSource {
  /** The variable or option path that set it. */
  readonly field: string;
  readonly pem?: string | Uint8Array | undefined;
  readonly file?: string | undefined;
}

/** Connection settings of one layer; undefined means "this layer does not say". */
export interface TargetLayer {
  readonly endpoint?: EndpointSetting | undefined;
  /** An endpoint was given but is unusable (already reported): the backend is not used. */
  readonly endpointInvalid?: boolean | undefined;
  readonly protocol?: Protocol | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly compression?: Compression | undefined;
  readonly timeoutMillis?: number | undefined;
  readonly ca?: PemSource | undefined;
  readonly cert?: PemSource | undefined;
  readonly key?: PemSource | undefined;
  readonly insecure?: boolean | undefined;
}

/** A backend as one source describes it. */
export interface BackendLayer {
  readonly name: string;
  readonly kind?: BackendKind | undefined;
  readonly signals?: readonly ExportSignal[] | undefined;
  readonly temporality?: Temporality | undefined;
  /** Backend-wide settings (endpoint is a base URL). */
  readonly target: TargetLayer;
  /** Per-signal settings (endpoint is the full URL). */
  readonly metrics: TargetLayer;
  readonly logs: TargetLayer;
  /** Environment variables that set something here (empty for code). */
  readonly variables: readonly string[];
  /** Kind `prometheus`: the scrape endpoint's host, port and path. */
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly path?: string | undefined;
}

/** Name rule shared by code and environment: the name becomes part of variable names. */
export const BACKEND_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `tenant-eu.1` → `TENANT_EU_1`, the infix of `OTEL_FANOUT_BACKEND_<KEY>_*`. */
export function backendEnvKey(name: string): string {
  return name.toUpperCase().replace(/[-.]/g, '_');
}
