/**
 * gzip for OTLP/HTTP request bodies (node:zlib, off the main thread) and bounded
 * gunzip for responses.
 */
import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

// Bodies are immutable and shared by every backend and retry (Transport contract), so
// one compression per body serves them all; the WeakMap lets the entry go with the body.
const compressed = new WeakMap<Uint8Array, Promise<Uint8Array>>();

/** gzip of `body`, computed once per body object. */
export function gzipBody(body: Uint8Array): Promise<Uint8Array> {
  let p = compressed.get(body);
  if (p === undefined) {
    p = gzipAsync(body).then((buf) => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    compressed.set(body, p);
    // A failure is not cached: the next call tries again.
    p.catch(() => compressed.delete(body));
  }
  return p;
}

/**
 * Gunzips `data`, producing at most `maxBytes`; returns undefined when the output
 * would be larger (zlib stops at the limit, so a gzip bomb costs at most `maxBytes`).
 * Throws for data that is not gzip.
 */
export async function gunzipBounded(data: Uint8Array, maxBytes: number): Promise<Uint8Array | undefined> {
  try {
    const buf = await gunzipAsync(data, { maxOutputLength: maxBytes });
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return undefined;
    throw e;
  }
}
