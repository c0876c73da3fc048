/**
 * The inspector's state: a gateway observer that keeps per-second windows of the traffic at all
 * times, and — only while a browser is connected — decodes requests into entries for the live
 * tail, the metric explorer, the logs table and the traces waterfall, kept in byte-bounded rings
 * and pushed to every connected browser as server-sent event frames (wire.ts).
 *
 * Cost with no browser connected (the benchmark: bench/gateway-ui.bench.ts): per request, a map
 * lookup and two additions per table (signal, tenant, each service name) and one `clients` check;
 * once a second, every row moves to its next slot. Nothing is decoded, serialized or allocated per
 * request. With browsers connected, decoding is bounded by a budget per second (requests and body
 * bytes), so a busy gateway shows a sample instead of spending its CPU on the page; the page says
 * how many requests were decoded and skipped. Decoding happens in `onRequest`, on the request's
 * path, because the body may not be kept past the call (events.ts); it adds the decode's time to
 * the answer of the requests it samples, and nothing to the others.
 */
import { packageVersion } from '../../internal/package-version.js';
import type { LatencyDelta as LatencyDeltaType } from '../observe/latency.js';
import { LatencyDelta } from '../observe/latency.js';
import type { GatewayObserver, GatewayView, ReloadResult, RequestEvent, UpstreamView } from '../observe/events.js';
import { ByteRing } from './byte-ring.js';
import { entriesOf } from './entries.js';
import { unroll, WindowTable } from './windows.js';
import type { Hello, ReloadEntry, Tick, UpstreamEntry } from './wire.js';

/** Options of {@link createInspector}; every one has a default fit for a workstation. */
export interface InspectorOptions {
  /** Seconds of per-second history kept for the overview charts. Default 300 (the last 5 minutes). */
  readonly windowSeconds?: number;
  /** Rows per table (services, tenants); later names count in `(other)`. Default 100: the charts stay readable. */
  readonly maxNames?: number;
  /**
   * Characters kept per ring of decoded entries: requests (the tail), metric points, log records,
   * spans. Default 2 Mi each (up to ~4 MiB of V8 strings each, 16 MiB in all): minutes of a
   * workstation's traffic, sent whole to a browser that connects.
   */
  readonly ringChars?: number;
  /** Requests decoded per second while a browser is connected; the rest are counted as skipped. Default 200. */
  readonly decodeRequestsPerSecond?: number;
  /** Body bytes decoded per second. Default 8 MiB (~20–40 ms of CPU a second at worst). */
  readonly decodeBytesPerSecond?: number;
  /** Wall clock, ms. Default `Date.now`; tests inject one. */
  readonly now?: () => number;
  /** Tick period in ms. Default 1000; tests shorten it. */
  readonly tickMillis?: number;
}

/** A connected browser: where its frames go. `write` returns false when the frame was not sent (it reads too slowly). */
export interface InspectorClient {
  write(frame: string): boolean;
}

/** The inspector: an observer for the gateway, and the state its HTTP side reads. */
export interface Inspector extends GatewayObserver {
  /** Adds a browser: sends it `hello` and the rings, then every new frame. Returns its removal. */
  connect(client: InspectorClient): () => void;
  /** Browsers connected now. */
  readonly clients: number;
  /** The once-a-second step, now (its timer calls it; tests call it instead of waiting). */
  tick(): void;
  /** Stops the tick timer and forgets the clients. */
  close(): Promise<void>;
}

const RING_KINDS = ['request', 'points', 'logs', 'spans'] as const;
const MAX_RELOADS = 50;
/** The p50/p99 of upstream calls are of the last 10 s: per second is too few calls to mean much. */
const LATENCY_SECONDS = 10;

/** One server-sent event frame. JSON never holds a raw newline, so `data:` fits on one line. */
export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface UpstreamTrack {
  readonly view: UpstreamView;
  readonly latency: LatencyDeltaType;
  p50: number | null;
  p99: number | null;
}

/** Creates the inspector (module comment). Its timer is unref()ed. */
export function createInspector(options: InspectorOptions = {}): Inspector {
  const window = options.windowSeconds ?? 300;
  const maxNames = options.maxNames ?? 100;
  const ringChars = options.ringChars ?? 2 * 1024 * 1024;
  const reqBudget = options.decodeRequestsPerSecond ?? 200;
  const byteBudget = options.decodeBytesPerSecond ?? 8 * 1024 * 1024;
  const now = options.now ?? Date.now;

  const signals = new WindowTable(window, 3);
  const services = new WindowTable(window, maxNames);
  const tenants = new WindowTable(window, maxNames);
  const refusals = new WindowTable(window, 16);
  const queued = new Float64Array(window);
  let disk: Float64Array | null = null;
  const rings = {
    request: new ByteRing(ringChars, 100_000),
    points: new ByteRing(ringChars, 200_000),
    logs: new ByteRing(ringChars, 100_000),
    spans: new ByteRing(ringChars, 100_000),
  };
  const reloads: ReloadEntry[] = [];
  const clients = new Set<InspectorClient>();
  let view: GatewayView | undefined;
  let tracks: UpstreamTrack[] = [];
  let seq = 0;
  let reqLeft = reqBudget;
  let bytesLeft = byteBudget;
  let decoded = 0;
  let skipped = 0;
  let decodeErrors = 0;
  let ticks = 0;

  function broadcast(f: string): void {
    for (const c of clients) c.write(f);
  }

  function syncTracks(): void {
    if (view === undefined) return;
    const ups = view.upstreams;
    if (ups.length === tracks.length && ups.every((u, i) => tracks[i]!.view === u)) return;
    const known = new Map(tracks.map((t) => [t.view, t]));
    tracks = ups.map((u) => known.get(u) ?? { view: u, latency: new LatencyDelta(u.latency), p50: null, p99: null });
  }

  function upstreamEntries(): UpstreamEntry[] {
    syncTracks();
    const refreshLatency = ticks % LATENCY_SECONDS === 0;
    return tracks.map((t) => {
      const s = t.view.stats();
      if (refreshLatency || t.p50 === null) {
        const h = t.latency.next();
        t.p50 = h.count > 0 ? h.quantile(0.5) : null;
        t.p99 = h.count > 0 ? h.quantile(0.99) : null;
      }
      const health = t.view.health?.();
      const lastError = health?.lastError ?? null;
      return {
        name: t.view.name,
        endpoint: t.view.endpoint,
        protocol: t.view.protocol,
        tenant: t.view.tenant ?? null,
        health: health?.failing === true ? 'failing' : s.requestsSent > 0 ? 'ok' : 'idle',
        lastError: lastError === null ? null : { message: lastError.message, atMs: lastError.atMs, retryable: lastError.retryable },
        itemsSent: s.itemsSent,
        itemsFailed: s.itemsFailed,
        itemsRejected: s.itemsRejected,
        itemsDropped: s.itemsDropped,
        requestsSent: s.requestsSent,
        requestsFailed: s.requestsFailed,
        retries: s.retries,
        queueBytes: s.queueBytes,
        queueRequests: s.queueRequests,
        inFlight: s.inFlightRequests,
        p50Ms: t.p50,
        p99Ms: t.p99,
      };
    });
  }

  function tick(): void {
    const slot = signals.slot;
    const queuedBytes = view?.queuedBytes() ?? 0;
    queued[slot] = queuedBytes;
    const storage = view?.storage?.stats();
    if (storage !== undefined) {
      disk ??= new Float64Array(window);
      disk[slot] = storage.bytesOnDisk;
    }
    const t = now();
    const closed = { signals: signals.advance(), services: services.advance(), tenants: tenants.advance(), refusals: refusals.advance() };
    ticks++;
    const figures = { decoded, skipped, errors: decodeErrors, clients: clients.size };
    decoded = 0;
    skipped = 0;
    reqLeft = reqBudget;
    bytesLeft = byteBudget;
    // With no browser connected, the windows above are all a tick does.
    if (clients.size === 0) return;
    const out: Tick = {
      t,
      signals: closed.signals,
      services: closed.services,
      tenants: closed.tenants,
      refusals: Object.fromEntries(Object.entries(closed.refusals).map(([k, [n]]) => [k, n])),
      queuedBytes,
      maxQueuedBytes: view?.maxQueuedBytes ?? 0,
      diskBytes: storage?.bytesOnDisk ?? null,
      diskMaxBytes: storage?.maxBytes ?? null,
      upstreams: upstreamEntries(),
      decode: figures,
      draining: view?.draining() ?? false,
    };
    broadcast(frame('tick', out));
  }

  const timer = setInterval(tick, options.tickMillis ?? 1000);
  timer.unref();

  function hello(): Hello {
    const history = (table: WindowTable) => table.history();
    const refusalRows = refusals.history();
    const addresses = view?.addresses;
    return {
      t: now(),
      window,
      version: packageVersion(),
      addresses: { grpc: addresses?.grpc ?? null, http: addresses?.http ?? null },
      signals: history(signals),
      services: history(services),
      tenants: history(tenants),
      refusals: Object.fromEntries(Object.entries(refusalRows).map(([k, v]) => [k, v.requests])),
      queuedBytes: unroll(queued, signals.slot),
      diskBytes: disk === null ? null : unroll(disk, signals.slot),
      reloads: [...reloads],
      limits: {
        ringBytes: Object.fromEntries(RING_KINDS.map((k) => [k, rings[k].maxBytes])),
        decodeRequestsPerSecond: reqBudget,
        decodeBytesPerSecond: byteBudget,
      },
    };
  }

  function decode(e: RequestEvent): void {
    if (reqLeft <= 0 || bytesLeft < e.bytes) {
      skipped++;
      return;
    }
    reqLeft--;
    bytesLeft -= e.bytes;
    let d: ReturnType<RequestEvent['decode']>;
    try {
      d = e.decode();
    } catch {
      // Accepted after a scan to the item level, refused by a full decode (events.ts): counted, not shown.
      decodeErrors++;
      return;
    }
    decoded++;
    const entries = entriesOf(d, {
      seq: ++seq,
      t: now(),
      protocol: e.protocol,
      tenant: e.tenant,
      services: e.serviceNames,
      items: e.items,
      bytes: e.bytes,
      upstreams: e.upstreams,
    });
    const push = (kind: (typeof RING_KINDS)[number], data: unknown): void => {
      const f = frame(kind, data);
      rings[kind].push(f);
      broadcast(f);
    };
    push('request', entries.request);
    if (entries.points.length > 0) push('points', entries.points);
    if (entries.logs.length > 0) push('logs', entries.logs);
    if (entries.spans.length > 0) push('spans', entries.spans);
  }

  return {
    attach(v) {
      view = v;
      syncTracks();
    },
    onRequest(e) {
      signals.add(e.signal, e.items);
      if (e.tenant !== undefined) tenants.add(e.tenant, e.items);
      const names = e.serviceNames;
      for (let i = 0; i < names.length; i++) services.add(names[i]!, e.items);
      if (clients.size > 0) decode(e);
    },
    onRefused(e) {
      refusals.add(e.reason, 0);
    },
    onReload(r: ReloadResult) {
      const diff = (label: string, d: ReloadResult['upstreams']): string[] =>
        d.added.length + d.changed.length + d.removed.length === 0
          ? []
          : [`${label} ${[...d.added.map((n) => `+${n}`), ...d.changed.map((n) => `~${n}`), ...d.removed.map((n) => `-${n}`)].join(' ')}`];
      const entry: ReloadEntry = {
        atMs: now(),
        outcome: r.outcome,
        trigger: r.trigger,
        source: r.source,
        error: r.error?.message ?? null,
        summary: [
          ...diff('upstreams', r.upstreams),
          ...diff('tenants', r.tenants),
          ...(r.settings.length > 0 ? [`changed ${r.settings.join(', ')}`] : []),
        ].join('; '),
        needsRestart: r.needsRestart.map((n) => n.path),
      };
      reloads.push(entry);
      if (reloads.length > MAX_RELOADS) reloads.shift();
      syncTracks();
      broadcast(frame('reload', entry));
    },
    connect(client) {
      client.write(frame('hello', hello()));
      for (const kind of RING_KINDS) for (const f of rings[kind].toArray()) client.write(f);
      clients.add(client);
      return () => {
        clients.delete(client);
      };
    },
    get clients() {
      return clients.size;
    },
    tick,
    async close() {
      clearInterval(timer);
      clients.clear();
    },
  };
}
