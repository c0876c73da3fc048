/**
 * The receive → route → forward step, shared by the gRPC and HTTP receivers.
 *
 * A request is accepted once it is queued for every upstream its routes matched, which
 * happens synchronously: bodies for all upstreams are prepared first (so a body that
 * cannot be re-encoded refuses the whole request and nothing is queued anywhere), then
 * admitted (a request that would not fit the queue of a healthy upstream it goes to is
 * refused whole with backpressure), then enqueued. A dead upstream's full queue drops its
 * own oldest data instead, so an outage never fails the client and never makes it resend
 * data the healthy upstreams already have.
 *
 * With durable storage the request is one record of the durable queue (every upstream's body,
 * each stored once) and it is accepted once the record is written: ingest() then answers
 * asynchronously. The log's bound replaces the queues' (export/durable-queue.ts: failing
 * upstreams shed their oldest data, healthy ones behind make it refuse with backpressure).
 *
 * What each upstream's body is (as received, spliced, re-encoded, processed) is bodies.ts.
 */
import { scanRequest, WireFormatError } from '../../otlp/scan.js';
import type { ScanResult } from '../../otlp/scan.js';
import { OtlpJsonError } from '../../otlp/json.js';
import type { Signal } from '../../otlp/types.js';
import type { DecodedRequest, GatewayObserver, ProcessorDropReason, RefusalReason } from '../observe/events.js';
import { PROTOCOLS } from '../../transport/protocols.js';
import type { Protocol } from '../../transport/protocols.js';
import { decodeRequest, encodeRequest } from './requests.js';
import type { RoutePlan, Router } from '../route/router.js';
import { buildBody } from './bodies.js';
import type { BodyCache, BuiltBody } from './bodies.js';
import type { ProcessorChain } from './processors/chain.js';
import type { Upstream } from './upstream.js';
import type { DurableQueue } from '../../export/durable-queue.js';
import { encodeQueueName, encodeQueueRecord } from '../../export/durable/queue-record.js';
import type { QueueDelivery } from '../../export/durable/queue-record.js';

/** One received request, decompressed and authenticated. */
export interface IngestRequest {
  readonly signal: Signal;
  readonly protocol: Protocol;
  readonly tenant: string | undefined;
  readonly body: Uint8Array;
  readonly wireBytes: number;
}

/** A refusal, before any data was queued. */
export interface Refusal {
  readonly kind: 'refused';
  readonly reason: RefusalReason;
  readonly message: string;
  /** Set for backpressure: how long the client should wait. */
  readonly retryAfterMillis?: number;
}

/** The result of ingesting; `rejected` items (no route matched) make a partial success. */
export type IngestOutcome = { readonly kind: 'accepted'; readonly rejected: number; readonly message: string } | Refusal;

export interface Ingest {
  /** Whether new data may come in now (not draining, not over the queue limit). Cheap; call before reading a body. */
  admit(): Refusal | undefined;
  /** Synchronous with memory queues; a promise with durable storage (answered once on disk). Never rejects. */
  ingest(request: IngestRequest): IngestOutcome | Promise<IngestOutcome>;
  /** Bytes queued across every upstream, failing ones included (a body shared by n upstreams counts n times). */
  queuedBytes(): number;
  /** True once the gateway started draining (`IngestOptions.drain`): `admit()` then refuses. */
  readonly draining: boolean;
}

export interface IngestOptions {
  readonly router: Router<Upstream, ProcessorChain>;
  /** Every forwarding upstream (shared and tenants' own): the backpressure total covers the healthy ones. */
  readonly upstreams: readonly Upstream[];
  readonly maxQueuedBytes: number;
  readonly retryAfterMillis: number;
  /** Already guarded (observe/guard.ts): its methods never throw. */
  readonly observer: GatewayObserver;
  /** The gateway's drain state: owned by the gateway, not a pipeline, so it holds across a pipeline swap. */
  readonly drain: DrainState;
  /** The durable queue, when storage is on: requests are written there, not to memory queues. */
  readonly storage?: DurableQueue | undefined;
}

/** Whether the gateway is shutting down; the composition root sets it, every pipeline's ingest reads it. */
export interface DrainState {
  readonly draining: boolean;
}

const ACCEPTED: IngestOutcome = Object.freeze({ kind: 'accepted', rejected: 0, message: '' });
const NOTHING_DROPPED: ReadonlyMap<ProcessorDropReason, number> = new Map();

/** Items of `b`, the router having counted `items`: processors may have dropped some (bodies.ts). */
const itemsOf = (b: BuiltBody, items: number): number => b.items ?? items;
/** Whether the processors left nothing of `b` to send. */
const emptied = (b: BuiltBody): boolean => b.items === 0 && b.dropped !== undefined;

export function createIngest(options: IngestOptions): Ingest {
  const { router, upstreams, maxQueuedBytes, retryAfterMillis, observer, drain, storage } = options;
  const anyUpstream = upstreams.length > 0;
  const queueNames = new Map<string, Uint8Array>();
  const queueName = (u: Upstream): Uint8Array => {
    let n = queueNames.get(u.name);
    if (n === undefined) queueNames.set(u.name, (n = encodeQueueName(u.name)));
    return n;
  };
  const behind = (holders: readonly string[]): Refusal => ({
    kind: 'refused',
    reason: 'backpressure',
    message: `durable storage is full and upstreams are behind (${holders.join(', ')}); retry later`,
    retryAfterMillis,
  });

  function queuedBytes(): number {
    let total = 0;
    for (const u of upstreams) total += u.backend.queuedBytes;
    return total;
  }
  function healthyQueuedBytes(): number {
    let total = 0;
    for (const u of upstreams) if (!u.backend.failing) total += u.backend.queuedBytes;
    return total;
  }

  return {
    get draining() {
      return drain.draining;
    },
    queuedBytes,
    admit() {
      if (drain.draining) return { kind: 'refused', reason: 'draining', message: 'the gateway is shutting down; retry with another instance' };
      if (storage !== undefined) {
        // Cheap while there is room; when full, whether a healthy upstream holds it (then only waiting helps).
        if (!storage.hasRoom(0)) {
          const healthy = storage.log
            .holders()
            .map((h) => h.name)
            .filter((n) => upstreams.some((u) => u.name === n && !u.backend.failing));
          if (healthy.length > 0) return behind(healthy);
        }
      } else if (anyUpstream) {
        // Only healthy upstreams count: a failing one's queue is bounded by its own queue.maxBytes and
        // drops its oldest data, so any number of dead upstreams can never make clients back off for
        // the healthy ones (docs/gateway.md, Backpressure, gives the memory bound this leaves).
        const queued = healthyQueuedBytes();
        if (queued > maxQueuedBytes) {
          return {
            kind: 'refused',
            reason: 'backpressure',
            message: `upstreams are behind (${queued} bytes queued for healthy upstreams, limit ${maxQueuedBytes}); retry later`,
            retryAfterMillis,
          };
        }
      }
      return undefined;
    },
    ingest(request) {
      const { signal, body } = request;
      const encoding = PROTOCOLS[request.protocol].encoding;
      let decoded: DecodedRequest | undefined;
      let protobuf: Uint8Array;
      let scan: ScanResult;
      try {
        if (encoding === 'json') {
          decoded = decodeRequest(signal, body, 'json');
          protobuf = encodeRequest(decoded, 'protobuf');
        } else {
          protobuf = body;
        }
        scan = scanRequest(signal, protobuf, router.wantedAttributes);
      } catch (e) {
        return malformed(e);
      }
      const plan = scan.entries.length === 0 ? { selections: [], unrouted: 0 } : router.plan(signal, request.tenant, scan.entries, scan.items);

      // Build every body before queuing any, so a failure refuses the whole request.
      let built: BodyCache | undefined;
      let asReceived: BuiltBody | undefined;
      const bodies: BuiltBody[] = [];
      try {
        for (const s of plan.selections) {
          // The common case, every entry in the received encoding, needs no key and no map.
          if (s.entries === null && s.upstream.encoding === encoding) bodies.push((asReceived ??= { body, how: 'as_received' }));
          else bodies.push(buildBody(s, signal, protobuf, scan, (built ??= new Map())));
        }
      } catch (e) {
        return malformed(e);
      }

      if (storage !== undefined && plan.selections.length > 0) {
        // Each distinct body once: the common case is one body (as received) for every upstream.
        const distinct: Uint8Array[] = [];
        const deliveries: QueueDelivery[] = [];
        for (let i = 0; i < plan.selections.length; i++) {
          const s = plan.selections[i]!;
          if (emptied(bodies[i]!)) continue;
          const b = bodies[i]!.body;
          let at = distinct.indexOf(b);
          if (at < 0) at = distinct.push(b) - 1;
          deliveries.push({ name: queueName(s.upstream), items: itemsOf(bodies[i]!, s.items), body: at });
        }
        // The processors left nothing for any upstream: nothing to store.
        if (deliveries.length === 0) return accepted(request, plan, bodies, scan, decoded);
        const record = encodeQueueRecord(signal, deliveries, distinct);
        if (record.byteLength > storage.log.options.maxRecordBytes) {
          return {
            kind: 'refused',
            reason: 'too_large',
            message: `the request is ${record.byteLength} bytes for durable storage with every upstream's body, over its largest record (${storage.log.options.maxRecordBytes}); send smaller requests`,
          };
        }
        return storage.append(record).then((outcome): IngestOutcome => {
          if (outcome.kind === 'full') return behind(outcome.holders);
          if (outcome.kind === 'failed') {
            return {
              kind: 'refused',
              reason: 'storage_unavailable',
              message: `durable storage could not write the request (${outcome.error.code}); retry later`,
              retryAfterMillis,
            };
          }
          return accepted(request, plan, bodies, scan, decoded);
        });
      }

      // Overload pushes back before any upstream drops: a request that would not fit the
      // queue of a healthy upstream it must go to is refused whole (nothing queued anywhere).
      // An upstream whose last attempt failed is in an outage, not overloaded: refusing for it
      // would stop the healthy ones too, so its queue drops its oldest data as before. A body
      // that does not fit even an empty queue could never be taken, by waiting or otherwise:
      // acknowledging it would mean dropping it at once, so it is refused as too large (the
      // config refuses a queue.maxBytes below limits.maxRequestBytes; a JSON upstream's body can
      // still outgrow the protobuf it came from).
      for (let i = 0; i < plan.selections.length; i++) {
        const upstream = plan.selections[i]!.upstream;
        const backend = upstream.backend;
        const bytes = bodies[i]!.body.byteLength;
        if (bytes > upstream.config.queue.maxBytes) {
          return {
            kind: 'refused',
            reason: 'too_large',
            message: `the request is ${bytes} bytes for upstream "${upstream.name}", larger than its whole queue (queue.maxBytes ${upstream.config.queue.maxBytes}); send smaller requests`,
          };
        }
        if (!backend.failing && !backend.hasRoom(bytes) && backend.queuedBytes > 0) {
          return {
            kind: 'refused',
            reason: 'backpressure',
            message: `upstream "${plan.selections[i]!.upstream.name}" is behind (${backend.queuedBytes} bytes queued); retry later`,
            retryAfterMillis,
          };
        }
      }

      const queued: boolean[] = [];
      for (let i = 0; i < plan.selections.length; i++) {
        const s = plan.selections[i]!;
        const b = bodies[i]!;
        // Processors may have dropped items; when they left none, there is nothing to send.
        queued.push(emptied(b) ? false : s.upstream.backend.enqueue(signal, b.body, itemsOf(b, s.items)));
      }
      return accepted(request, plan, bodies, scan, decoded, queued);
    },
  };

  /** Reports an accepted request (once queued: in memory, or written to storage) and answers it. */
  function accepted(
    request: IngestRequest,
    plan: RoutePlan<Upstream, ProcessorChain>,
    bodies: readonly BuiltBody[],
    scan: ScanResult,
    decodedAlready: DecodedRequest | undefined,
    queued?: readonly boolean[],
  ): IngestOutcome {
    const { signal, body } = request;
    const encoding = PROTOCOLS[request.protocol].encoding;
    let decoded = decodedAlready;
    const names: string[] = [];
    for (let i = 0; i < plan.selections.length; i++) {
      const s = plan.selections[i]!;
      const b = bodies[i]!;
      if (b.dropped !== undefined || b.streams !== undefined) {
        observer.onProcessed?.({ upstream: s.upstream.name, signal, dropped: b.dropped ?? NOTHING_DROPPED, streams: b.streams });
        if (emptied(b)) continue;
      }
      names.push(s.upstream.name);
      observer.onForwarded?.({
        upstream: s.upstream.name,
        signal,
        items: itemsOf(b, s.items),
        bytes: b.body.byteLength,
        body: b.how,
        queued: queued?.[i] ?? true,
      });
    }

    const serviceNames: string[] = [];
    for (const e of scan.entries) {
      const name = e.attributes.get('service.name');
      if (name !== undefined && !serviceNames.includes(name)) serviceNames.push(name);
    }
    const decode = (): DecodedRequest => (decoded ??= decodeRequest(signal, body, encoding));
    const unrouted = anyUpstream ? plan.unrouted : 0;
    observer.onRequest({
      signal,
      protocol: request.protocol,
      tenant: request.tenant,
      serviceNames,
      items: scan.items,
      bytes: body.byteLength,
      wireBytes: request.wireBytes,
      upstreams: names,
      unrouted,
      body,
      encoding,
      decode,
    });
    if (unrouted > 0) return { kind: 'accepted', rejected: unrouted, message: `${unrouted} items matched no route and were dropped` };
    return ACCEPTED;
  }
}

function malformed(e: unknown): Refusal {
  let message: string;
  if (e instanceof WireFormatError || e instanceof OtlpJsonError) message = e.message;
  else message = `the request cannot be decoded: ${e instanceof Error ? e.message : String(e)}`;
  return { kind: 'refused', reason: 'malformed', message };
}
