/**
 * The browser's side of the inspector's event stream (src/gateway/inspect/wire.ts): one
 * EventSource, and what it has said, kept in bounded arrays (the server bounds its rings; the page
 * bounds its own copies, so a tab left open for days stays small). Components read `store` and
 * re-render on `subscribe`, at most every 500 ms: a busy gateway sends hundreds of frames a second.
 */
import type {
  Hello,
  LogEntry,
  Pair,
  PointEntry,
  ReloadEntry,
  RequestEntry,
  RowHistory,
  SpanEntry,
  Tick,
  UpstreamEntry,
} from '../../src/gateway/inspect/wire.js';

/** What the page keeps of each kind, newest last. */
export const KEEP = { requests: 2000, points: 50_000, logs: 5000, spans: 20_000 } as const;

/** Per-second history of one table (signals, services, tenants): name → requests and items, oldest first. */
export type Series = Map<string, { requests: number[]; items: number[] }>;

export interface State {
  connected: boolean;
  /** Why the stream is down (the server closed, credentials refused). */
  problem: string | null;
  hello: Hello | null;
  window: number;
  /** End time (ms) of each second of the series, oldest first. */
  times: number[];
  signals: Series;
  services: Series;
  tenants: Series;
  refusals: Map<string, number[]>;
  queued: number[];
  disk: number[] | null;
  last: Tick | null;
  upstreams: readonly UpstreamEntry[];
  reloads: ReloadEntry[];
  requests: RequestEntry[];
  points: PointEntry[];
  logs: LogEntry[];
  spans: SpanEntry[];
  /** Frames the server skipped for this page (it read too slowly). */
  lost: number;
}

export const store: State = {
  connected: false,
  problem: null,
  hello: null,
  window: 300,
  times: [],
  signals: new Map(),
  services: new Map(),
  tenants: new Map(),
  refusals: new Map(),
  queued: [],
  disk: null,
  last: null,
  upstreams: [],
  reloads: [],
  requests: [],
  points: [],
  logs: [],
  spans: [],
  lost: 0,
};

const listeners = new Set<() => void>();
let scheduled = false;

/** Calls `fn` after changes, at most every 500 ms. Returns the unsubscription. */
export function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed(): void {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    for (const l of listeners) l();
  }, 500);
}

function fromHistory(rows: Record<string, RowHistory>): Series {
  const m: Series = new Map();
  for (const [k, v] of Object.entries(rows)) m.set(k, { requests: [...v.requests], items: [...v.items] });
  return m;
}

/** Appends the closed second to every row (a new row is zeros before), drops the oldest second. */
function advance(series: Series, closed: Record<string, Pair>, length: number): void {
  for (const name of Object.keys(closed)) {
    if (!series.has(name)) series.set(name, { requests: new Array<number>(length).fill(0), items: new Array<number>(length).fill(0) });
  }
  for (const [name, row] of series) {
    const p = closed[name];
    row.requests.push(p?.[0] ?? 0);
    row.items.push(p?.[1] ?? 0);
    row.requests.shift();
    row.items.shift();
    if (p === undefined && row.requests.every((x) => x === 0)) series.delete(name);
  }
}

function keep<T>(list: T[], add: readonly T[], max: number): void {
  for (const x of add) list.push(x);
  if (list.length > max) list.splice(0, list.length - max);
}

function onHello(h: Hello): void {
  store.hello = h;
  store.window = h.window;
  const n = h.window - 1;
  store.times = Array.from({ length: n }, (_, i) => h.t - (n - i) * 1000);
  store.signals = fromHistory(h.signals);
  store.services = fromHistory(h.services);
  store.tenants = fromHistory(h.tenants);
  store.refusals = new Map(Object.entries(h.refusals).map(([k, v]) => [k, [...v]]));
  store.queued = [...h.queuedBytes];
  store.disk = h.diskBytes === null ? null : [...h.diskBytes];
  store.reloads = [...h.reloads];
  store.requests = [];
  store.points = [];
  store.logs = [];
  store.spans = [];
}

function onTick(t: Tick): void {
  store.last = t;
  store.upstreams = t.upstreams;
  const n = store.times.length;
  store.times.push(t.t);
  store.times.shift();
  advance(store.signals, t.signals, n);
  advance(store.services, t.services, n);
  advance(store.tenants, t.tenants, n);
  const refusals: Record<string, Pair> = Object.fromEntries(Object.entries(t.refusals).map(([k, v]) => [k, [v, 0] as Pair]));
  const rows: Series = new Map([...store.refusals].map(([k, v]) => [k, { requests: v, items: v.map(() => 0) }]));
  advance(rows, refusals, n);
  store.refusals = new Map([...rows].map(([k, v]) => [k, v.requests]));
  store.queued.push(t.queuedBytes);
  store.queued.shift();
  if (t.diskBytes !== null) {
    store.disk ??= new Array<number>(n).fill(0);
    store.disk.push(t.diskBytes);
    store.disk.shift();
  }
}

/** Opens the stream; reconnects by itself (EventSource does), starting over from `hello`. */
export function connect(): void {
  const es = new EventSource('/api/events');
  const on = <T>(event: string, fn: (data: T) => void): void => {
    es.addEventListener(event, (e) => {
      fn(JSON.parse((e as MessageEvent<string>).data) as T);
      changed();
    });
  };
  es.onopen = () => {
    store.connected = true;
    store.problem = null;
    changed();
  };
  es.onerror = () => {
    store.connected = false;
    store.problem = es.readyState === EventSource.CLOSED ? 'the gateway refused the stream (signed out?): reload the page' : 'reconnecting…';
    changed();
  };
  on<Hello>('hello', onHello);
  on<Tick>('tick', onTick);
  on<RequestEntry>('request', (r) => keep(store.requests, [r], KEEP.requests));
  on<PointEntry[]>('points', (p) => keep(store.points, p, KEEP.points));
  on<LogEntry[]>('logs', (l) => keep(store.logs, l, KEEP.logs));
  on<SpanEntry[]>('spans', (s) => keep(store.spans, s, KEEP.spans));
  on<ReloadEntry>('reload', (r) => keep(store.reloads, [r], 50));
  on<{ events: number }>('lost', (l) => (store.lost += l.events));
}
