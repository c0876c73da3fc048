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
 * Processed bodies (the processor seam; forward/processors/). A selection whose upstream or
 * routes have processors carries the chain of each of its entries (route/router.ts decides,
 * when it is built, which upstreams can have any; the others get `chains: null` and take the
 * paths above). Such a body is built from the protobuf bytes entry by entry — an entry with a
 * chain rewritten by it, one without copied — and transcoded for a JSON upstream after. It is a
 * kind of its own (`processed`), and its cache key is the (entry, chain id) list, so upstreams
 * with the same chains and entries share one body (a chain is interned by its configuration),
 * and a processed body is never served to an upstream without those chains. Processors may drop
 * items (filters, a temporality conversion's first points): such a body carries its item count
 * and what was dropped, and an entry nothing is left of is left out.
 */
import { spliceEntries } from '../../otlp/scan.js';
import type { ScanResult } from '../../otlp/scan.js';
import type { Signal } from '../../otlp/types.js';
import { protobufToJsonBody } from '../../transport/json-body.js';
import type { ForwardedEvent, ProcessorDropReason, StreamsSnapshot } from '../observe/events.js';
import type { Selection } from '../route/router.js';
import { ProcessContext } from './processors/chain.js';
import type { ProcessorChain } from './processors/chain.js';
import type { Upstream } from './upstream.js';

/** One upstream's share of a request, as the pipeline's router plans it. */
export type ForwardSelection = Selection<Upstream, ProcessorChain>;

/** A body prepared for some upstreams of one request. */
export interface BuiltBody {
  readonly body: Uint8Array;
  readonly how: ForwardedEvent['body'];
  /** Processed bodies whose processors dropped items: the items left (else the router's count stands) and the drops by reason. */
  readonly items?: number;
  readonly dropped?: ReadonlyMap<ProcessorDropReason, number>;
  /** Processed bodies of an upstream with a temporality conversion: its state after this body. */
  readonly streams?: StreamsSnapshot;
}

/** One request's built bodies, keyed by target encoding, subset and chains (see {@link buildBody}). */
export type BodyCache = Map<string, BuiltBody>;

/**
 * The body for a selection that is not the received body as is: protobuf re-encoded from JSON,
 * JSON transcoded from protobuf, a splice of some entries, or processed entries. Built once per
 * distinct target encoding, subset and chains of one request (`cache`), shared by the upstreams
 * that take the same.
 */
export function buildBody(s: ForwardSelection, signal: Signal, protobuf: Uint8Array, scan: ScanResult, cache: BodyCache): BuiltBody {
  if (s.chains !== null) return processedBody(s.upstream.encoding, s.entries!, s.chains, signal, protobuf, scan, cache);
  const target = s.upstream.encoding;
  const key = `${target}:${s.entries === null ? '*' : s.entries.join(',')}`;
  let b = cache.get(key);
  if (b !== undefined) return b;
  if (s.entries === null) {
    if (target === 'protobuf') b = { body: protobuf, how: 'reencoded' };
    // Transcoded from the bytes: ~10× cheaper than decoding to messages and encoding those.
    else b = { body: protobufToJsonBody(signal, protobuf), how: 'reencoded' };
  } else {
    const spliced = spliceEntries(
      protobuf,
      s.entries.map((i) => scan.entries[i]!),
    );
    b = { body: target === 'protobuf' ? spliced : protobufToJsonBody(signal, spliced), how: 'spliced' };
  }
  cache.set(key, b);
  return b;
}

/** Entries through their chains, as protobuf; then transcoded once for JSON upstreams. */
function processedBody(
  target: Upstream['encoding'],
  entries: readonly number[],
  chains: readonly (ProcessorChain | null)[],
  signal: Signal,
  protobuf: Uint8Array,
  scan: ScanResult,
  cache: BodyCache,
): BuiltBody {
  let key = 'p:';
  for (let i = 0; i < entries.length; i++) key += `${entries[i]}/${chains[i]?.id ?? 0},`;
  let pb = cache.get(key);
  if (pb === undefined) {
    const parts: Uint8Array[] = new Array(entries.length);
    const ctx = new ProcessContext(signal);
    let size = 0;
    let items = 0;
    let streams: (() => StreamsSnapshot) | undefined;
    for (let i = 0; i < entries.length; i++) {
      const e = scan.entries[entries[i]!]!;
      const bytes = protobuf.subarray(e.start, e.end);
      const c = chains[i];
      const out = c === null || c === undefined ? bytes : c.processEntry(bytes, ctx);
      parts[i] = out;
      size += out.length;
      items += e.items;
      streams ??= c?.tail?.streams;
    }
    // One entry (the usual request): its processed bytes are the body, no second copy.
    let body = parts[0] ?? new Uint8Array(0);
    if (parts.length > 1) {
      body = new Uint8Array(size);
      let at = 0;
      for (const part of parts) {
        body.set(part, at);
        at += part.length;
      }
    }
    pb = { body, how: 'processed' };
    if (ctx.dropped !== undefined) pb = { ...pb, items: items - ctx.droppedItems, dropped: ctx.dropped };
    if (streams !== undefined) pb = { ...pb, streams: streams() };
    cache.set(key, pb);
  }
  if (target === 'protobuf') return pb;
  const jsonKey = `json:${key}`;
  let b = cache.get(jsonKey);
  if (b === undefined) {
    b = { ...pb, body: protobufToJsonBody(signal, pb.body) };
    cache.set(jsonKey, b);
  }
  return b;
}
