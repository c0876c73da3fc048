/** Binding a receiver's server: shared by every receiver. */
import type * as net from 'node:net';
import { warnOnce } from '../../internal/warn.js';

/** Listens on host:port; rejects on EADDRINUSE and the like. */
export function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      // A listening server's own errors are rare (EMFILE on accept); report them, never crash.
      server.on('error', (e: Error) => warnOnce(`gateway-listen:${e.message}`, `gateway receiver on ${host}:${port}: ${e.message}`));
      resolve();
    });
  });
}
