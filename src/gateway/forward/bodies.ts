/**
 * The bodies a request is forwarded as, one per distinct (target encoding, subset) of one
 * request, shared by the upstreams that take the same:
 * - protobuf upstreams get the received bytes when they take every resource entry, a splice
 *   of the received bytes (otlp/scan.ts `spliceEntries`) when they take some; a JSON body is
 *   encoded to protobuf once (ingest.ts);
 * - JSON upstreams get the received JSON when it is whole, otherwise one transcoding per
 *   distinct subset.
 * The common case, every entry in the received encoding, never reaches this file: ingest.ts
 * forwards the received body with no key and no cache.
 *
 * The processor seam. A processor (issue 10) is a step compiled from config for a route or an
 * upstream, decided when the config is loaded. It belongs here: a selection will carry its
 * compiled chain (absent when none is configured, so the path above stays as it is with no
 * per-request check), {@link buildBody} applies the chain to the selected protobuf bytes before
 * the encoding step, the result is a kind of its own (`ForwardedEvent['body']` gains
 * `processed`), and the cache key starts with the chain's identity, so upstreams with the same
 * chain and subset still share one body and a processed body is never served to an upstream
 * without that chain.
 */
import { spliceEntries } from '../../otlp/scan.js';
import type { ScanResult } from '../../otlp/scan.js';
import type { Signal } from '../../otlp/types.js';
import { protobufToJsonBody } from '../../transport/json-body.js';
import type { ForwardedEvent } from '../observe/events.js';
import type { Selection } from '../route/router.js';
import type { Upstream } from './upstream.js';

/** A body prepared for some upstreams of one request. */
export interface BuiltBody {
  readonly body: Uint8Array;
  readonly how: ForwardedEvent['body'];
}

/** One request's built bodies, keyed by target encoding and subset (see {@link buildBody}). */
export type BodyCache = Map<string, BuiltBody>;

/**
 * The body for a selection that is not the received body as is: protobuf re-encoded from JSON,
 * JSON transcoded from protobuf, or a splice of some entries. Built once per distinct target
 * encoding and subset of one request (`cache`), shared by the upstreams that take the same.
 */
export function buildBody(s: Selection<Upstream>, signal: Signal, protobuf: Uint8Array, scan: ScanResult, cache: BodyCache): BuiltBody {
  const target = s.upstream.encoding;
  const key = `${target}:${s.entries === null ? '*' : s.entries.join(',')}`;
  let b = cache.get(key);
  if (b !== undefined) return b;
  if (s.entries === null) {
    if (target === 'protobuf') b = { body: protobuf, how: 'reencoded' };
    // Transcoded from the bytes: ~10× cheaper than decoding to messages and encoding those.
    else b = { body: protobufToJsonBody(signal, protobuf), how: 'reencoded' };
  } else {
    const spliced = spliceEntries(protobuf, s.entries.map((i) => scan.entries[i]!));
    b = { body: target === 'protobuf' ? spliced : protobufToJsonBody(signal, spliced), how: 'spliced' };
  }
  cache.set(key, b);
  return b;
}
