/** Binding a receiver's server and the handle every receiver returns for it. */
import type * as net from 'node:net';
import { warnOnce } from '../../internal/warn.js';
import type { ReceiverHandle } from './receiver.js';

/**
 * Listens on host:port (rejects on EADDRINUSE and the like) and returns the receiver's handle:
 * its bound address, and an idempotent `close()` that stops listening and ends the open
 * connections with `closeConnections` (each server kind has its own way).
 */
export function listen(server: net.Server, host: string, port: number, closeConnections: () => void): Promise<ReceiverHandle> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      // A listening server's own errors are rare (EMFILE on accept); report them, never crash.
      server.on('error', (e: Error) => warnOnce(`gateway-listen:${e.message}`, `gateway receiver on ${host}:${port}: ${e.message}`));
      let closing: Promise<void> | undefined;
      resolve({
        host,
        port: (server.address() as net.AddressInfo).port,
        close() {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            closeConnections();
          });
          return closing;
        },
      });
    });
  });
}
