/**
 * The `receivers` section: where the gRPC and HTTP receivers listen, with optional TLS;
 * a `--grpc`/`--http` flag overrides the file, `off` (or `false` in the file) disables one.
 */
import { at, GatewayConfigError } from './config-error.js';
import { listenAddress, mapping } from './values.js';
import type { FileReader, ListenAddress } from './values.js';

/** A receiver's listen address and optional TLS (PEM contents, read from the files at load time). */
export interface ReceiverConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string } | null;
}

/** One receiver's config, or null when it is off. */
export function receiverConfig(
  value: unknown,
  p: string,
  defaultAddress: string,
  flag: string | undefined,
  flagName: string,
  files: FileReader,
): ReceiverConfig | null {
  if (flag === 'off') return null;
  if (value === false) {
    if (flag === undefined) return null;
    value = {};
  }
  const doc = mapping(value ?? {}, p, ['address', 'tls']);
  const address: ListenAddress =
    flag !== undefined ? listenAddress(flag, flagName) : listenAddress(doc['address'] ?? defaultAddress, at(p, 'address'));
  let tls: ReceiverConfig['tls'] = null;
  if (doc['tls'] !== undefined && doc['tls'] !== null) {
    const t = mapping(doc['tls'], at(p, 'tls'), ['certFile', 'keyFile']);
    if (t['certFile'] === undefined || t['keyFile'] === undefined) {
      throw new GatewayConfigError(at(p, 'tls'), 'a TLS receiver needs both certFile and keyFile');
    }
    tls = Object.freeze({ cert: files(t['certFile'], at(p, 'tls.certFile')), key: files(t['keyFile'], at(p, 'tls.keyFile')) });
  }
  return Object.freeze({ host: address.host, port: address.port, tls });
}
