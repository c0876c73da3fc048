import type * as http2 from 'node:http2';

/**
 * Some HTTP/2 clients (connect's own, for `[::1]`) send an IPv6 `:authority` without brackets
 * (`::1:4317`), which connect-node 2.1 cannot turn into a URL and throws on synchronously.
 * Bracketing the address lets such clients in.
 */
export function bracketIpv6Authority(req: http2.Http2ServerRequest): void {
  const authority = req.authority;
  const m = /^([0-9a-fA-F:]*:[0-9a-fA-F:]*):(\d+)$/.exec(authority);
  if (m === null || authority.startsWith('[')) return;
  Object.defineProperty(req, 'authority', { value: `[${m[1]}]:${m[2]}` });
}
