/**
 * The lifecycle both network transports share: calls in flight are tracked so `close()` lets
 * them finish before the connections are released, and a call after `close()` fails at once
 * (not retryable: the transport will not come back).
 */
import { failed } from './retryable.js';
import type { Encoding, ExportCallOptions, ExportResult, Transport } from './types.js';
import type { Signal } from '../otlp/types.js';

/** A transport from its `call` (which never rejects) and the `release` of its connections. */
export function closableTransport(
  encoding: Encoding,
  call: (signal: Signal, body: Uint8Array, options: ExportCallOptions | undefined) => Promise<ExportResult>,
  release: () => void | Promise<void>,
): Transport {
  const inFlight = new Set<Promise<ExportResult>>();
  let closed = false;
  return {
    encoding,
    export(signal, body, options) {
      if (closed) return Promise.resolve(failed('unavailable', 'the transport is closed', false));
      const p = call(signal, body, options);
      inFlight.add(p);
      // call() never rejects; the catch only keeps the bookkeeping chain from ever reporting one.
      p.finally(() => inFlight.delete(p)).catch(() => undefined);
      return p;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      await release();
    },
  };
}
