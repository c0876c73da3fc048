/**
 * Reading an OTLP/HTTP request body with a byte cap, as received and after gunzip.
 *
 * gzip is inflated while the body streams in, one received chunk at a time, and the
 * inflated size is checked after every chunk zlib produces: a gzip bomb is stopped once
 * it passes the cap, having cost at most the cap plus one zlib chunk, never its full
 * expansion, and the rest of it is never taken in. The request stream is
 * never destroyed here, so the caller can still answer 413/400 on the same connection.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';

/** What reading a body came to. */
export type BodyResult =
  | { readonly kind: 'ok'; readonly body: Uint8Array; readonly wireBytes: number }
  /** Over the cap as received (`received`) or once inflated (`decompressed`). */
  | { readonly kind: 'too_large'; readonly stage: 'received' | 'decompressed' }
  /** Not valid gzip. */
  | { readonly kind: 'bad_gzip'; readonly message: string }
  /** The client went away before the end. */
  | { readonly kind: 'aborted' };

/** Reads `req` fully; `gzip` inflates it; both sizes are capped at `maxBytes`. */
export function readBody(req: IncomingMessage, gzip: boolean, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  // Refuse before reading a byte when the client says how big it is.
  if (declared > maxBytes) return Promise.resolve({ kind: 'too_large', stage: 'received' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let wire = 0;
    let done = false;
    const inflater = gzip ? createGunzip() : undefined;

    const finish = (result: BodyResult): void => {
      if (done) return;
      done = true;
      // After a whole body the stream is over and the listeners are inert (`done`): removing them would be work
      // on every request for nothing.
      if (result.kind !== 'ok') {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onAbort);
        req.off('close', onClose);
      }
      if (inflater !== undefined) {
        inflater.removeAllListeners('data');
        inflater.removeAllListeners('end');
        // Keep an error listener: a late zlib error must not become an uncaught exception.
        inflater.on('error', () => undefined);
        inflater.destroy();
      }
      // Whatever is still coming is read and dropped, so the response can still be written.
      if (result.kind !== 'ok') req.resume();
      resolve(result);
    };
    const collect = (chunk: Buffer): boolean => {
      size += chunk.length;
      if (size > maxBytes) {
        finish({ kind: 'too_large', stage: inflater === undefined ? 'received' : 'decompressed' });
        return false;
      }
      chunks.push(chunk);
      return true;
    };
    const complete = (): void => {
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      finish({ kind: 'ok', body: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), wireBytes: wire });
    };
    function onData(chunk: Buffer): void {
      wire += chunk.length;
      if (wire > maxBytes) return finish({ kind: 'too_large', stage: 'received' });
      if (inflater === undefined) {
        collect(chunk);
        return;
      }
      // Lock-step: the next chunk is read only once zlib has inflated this one, so the cap is
      // checked before more compressed input is even taken in.
      req.pause();
      inflater.write(chunk, () => {
        if (!done) req.resume();
      });
    }
    function onEnd(): void {
      if (inflater === undefined) complete();
      else inflater.end();
    }
    function onAbort(): void {
      finish({ kind: 'aborted' });
    }
    function onClose(): void {
      if (!req.complete) finish({ kind: 'aborted' });
    }
    if (inflater !== undefined) {
      inflater.on('data', (chunk: Buffer) => {
        if (!done) collect(chunk);
      });
      inflater.on('end', () => {
        if (!done) complete();
      });
      inflater.on('error', (e: Error) => finish({ kind: 'bad_gzip', message: `the gzip body is invalid: ${e.message}` }));
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}
