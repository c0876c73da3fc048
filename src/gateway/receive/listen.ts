/** Binding a receiver's server and the handle every receiver returns for it. */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { warnOnce } from '../../internal/warn.js';
import type { ReceiverHandle } from './receiver.js';

/** How a receiver ends its connections (each server kind has its own way). */
export interface ConnectionCloser {
  /** Ends every connection now, requests in flight included. */
  all(): void;
  /** Ends the connections with no request in flight, and asks the others to end after theirs (HTTP/2 GOAWAY). */
  idle(): void;
}

/** How often a graceful close looks for connections that became idle: a request's answer is milliseconds. */
const IDLE_SWEEP_MILLIS = 50;

/**
 * Listens on host:port (rejects on EADDRINUSE and the like) and returns the receiver's handle:
 * its bound address, an idempotent `close(graceMillis)` and, for a TLS server, `setCertificate`.
 */
export function listen(server: net.Server, host: string, port: number, connections: ConnectionCloser): Promise<ReceiverHandle> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      // A listening server's own errors are rare (EMFILE on accept); report them, never crash.
      server.on('error', (e: Error) => warnOnce(`gateway-listen:${e.message}`, `gateway receiver on ${host}:${port}: ${e.message}`));
      let closing: Promise<void> | undefined;
      let forceNow: (() => void) | undefined;
      resolve({
        host,
        port: (server.address() as net.AddressInfo).port,
        close(graceMillis = 0) {
          if (closing !== undefined) {
            if (graceMillis <= 0) forceNow?.();
            return closing;
          }
          closing = new Promise<void>((done) => {
            let sweep: NodeJS.Timeout | undefined;
            let deadline: NodeJS.Timeout | undefined;
            forceNow = () => {
              clearInterval(sweep);
              clearTimeout(deadline);
              connections.all();
            };
            server.close(() => {
              clearInterval(sweep);
              clearTimeout(deadline);
              done();
            });
            if (graceMillis <= 0) {
              connections.all();
              return;
            }
            connections.idle();
            sweep = setInterval(() => connections.idle(), IDLE_SWEEP_MILLIS);
            sweep.unref();
            deadline = setTimeout(forceNow, graceMillis);
            deadline.unref();
          });
          return closing;
        },
        setCertificate(pair) {
          if (!(server instanceof tls.Server)) throw new Error(`the receiver on ${host}:${port} has no TLS`);
          server.setSecureContext({ cert: pair.cert, key: pair.key });
        },
      });
    });
  });
}
