/**
 * The periodic console summary: `basic` is one line per interval, `normal` a compact
 * table. Pure formatting of a `SummaryInput` snapshot, so tests compare exact text.
 * Numbers are grouped with `,` and never localised: the output is greppable and stable.
 */
import type { BackendStats } from '../../export/backend.js';
import type { UpstreamProtocol } from '../../transport/protocols.js';
import type { RefusalReason } from './events.js';
import { SIGNALS } from '../../otlp/signals.js';
import type { Tally } from './tally.js';

/** One upstream over the interval. Counts are interval deltas; queue figures are current. */
export interface UpstreamInterval {
  readonly name: string;
  readonly protocol: UpstreamProtocol;
  readonly endpoint: string;
  readonly stats: BackendStats;
  readonly itemsSent: number;
  readonly itemsRejected: number;
  readonly itemsFailed: number;
  readonly itemsDropped: number;
  readonly retries: number;
  /** Export calls completed this interval, and their p50/p99 (ms). */
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** What one summary shows. */
export interface SummaryInput {
  /** Wall-clock time of the summary (ms since the epoch). */
  readonly atMs: number;
  readonly intervalMs: number;
  readonly uptimeMs: number;
  readonly tally: Tally;
  readonly upstreams: readonly UpstreamInterval[];
  /** undefined before the gateway attached. */
  readonly queuedBytes: number | undefined;
  readonly maxQueuedBytes: number | undefined;
  readonly draining: boolean;
  /** Rows of the service table. */
  readonly topServices: number;
}

/** `12345` → `12,345`; fractions keep one decimal. */
export function formatCount(n: number): string {
  const fixed = Number.isInteger(n) ? String(n) : n.toFixed(1);
  const [int, frac] = fixed.split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** A per-second rate with one decimal below 100, none above. */
export function formatRate(count: number, ms: number): string {
  if (ms <= 0) return '0';
  const r = (count * 1000) / ms;
  return r >= 100 ? formatCount(Math.round(r)) : formatCount(Math.round(r * 10) / 10);
}

/** Bytes in B, KiB, MiB or GiB with one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(n / (1024 * 1024 * 1024)).toFixed(1)} GiB`;
}

/** Milliseconds: two decimals below 10, one below 1000, then seconds. */
export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** `1h 2m 3s`, `4m 5s`, `6.0s`. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h ${m}m ${rest}s` : `${m}m ${rest}s`;
}

function refusalText(refusals: ReadonlyMap<RefusalReason, number>): string {
  return [...refusals]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([reason, n]) => `${reason} ${formatCount(n)}`)
    .join(', ');
}

/** What the gateway itself dropped this interval: `no_route` 5, then the processors' reasons, largest first; '' when nothing. */
function droppedText(t: Tally, noRouteNote: string): { total: number; text: string } {
  const rows: Array<[string, number]> = [...t.dropped].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const total = t.unrouted + t.intervalDropped();
  const parts = rows.map(([reason, n]) => `${reason} ${formatCount(n)}`);
  if (t.unrouted > 0) parts.unshift(`no_route ${formatCount(t.unrouted)}${noRouteNote}`);
  return { total, text: parts.join(', ') };
}

function stamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** The `basic` summary: one line, ending with a newline. */
export function formatBasicSummary(input: SummaryInput): string {
  const t = input.tally;
  let requests = 0;
  let items = 0;
  const perSignal: string[] = [];
  for (const s of SIGNALS) {
    const c = t.interval[s];
    requests += c.requests;
    items += c.items;
    if (c.requests > 0) perSignal.push(`${s} ${formatCount(c.requests)}/${formatCount(c.items)}`);
  }
  const parts = [
    `${stamp(input.atMs)} otlp-fanout gateway`,
    `${formatDuration(input.intervalMs)}: ${formatCount(requests)} req (${formatRate(requests, input.intervalMs)}/s), ${formatCount(items)} items (${formatRate(items, input.intervalMs)}/s)` +
      (perSignal.length > 0 ? ` [${perSignal.join(', ')}]` : ''),
  ];
  const refused = t.intervalRefusals();
  if (refused > 0) parts.push(`refused ${formatCount(refused)} (${refusalText(t.refusals)})`);
  if (t.unrouted > 0 && t.dropped.size === 0) parts.push(`dropped ${formatCount(t.unrouted)} items (no_route)`);
  else if (t.unrouted > 0 || t.dropped.size > 0) {
    const d = droppedText(t, '');
    parts.push(`dropped ${formatCount(d.total)} items (${d.text})`);
  }
  for (const u of input.upstreams) {
    let s = `${u.name}: sent ${formatCount(u.itemsSent)}`;
    if (u.itemsFailed > 0) s += ` failed ${formatCount(u.itemsFailed)}`;
    if (u.itemsRejected > 0) s += ` rejected ${formatCount(u.itemsRejected)}`;
    if (u.itemsDropped > 0) s += ` dropped ${formatCount(u.itemsDropped)}`;
    if (u.retries > 0) s += ` retries ${formatCount(u.retries)}`;
    s += ` queue ${formatBytes(u.stats.queueBytes)}`;
    if (u.calls > 0) s += ` p99 ${formatMs(u.p99Ms)}`;
    parts.push(s);
  }
  if (input.draining) parts.push('draining');
  return `${parts.join(' | ')}\n`;
}

/** Left-aligns the first `left` columns (names), right-aligns the rest (numbers); two spaces between. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], left = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    '  ' +
    cells
      .map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The `normal` summary: a few small tables, ending with a newline. */
export function formatNormalSummary(input: SummaryInput): string {
  const t = input.tally;
  const ms = input.intervalMs;
  let out = `${stamp(input.atMs)} otlp-fanout gateway: last ${formatDuration(ms)}, up ${formatDuration(input.uptimeMs)}${input.draining ? ', draining' : ''}\n`;
  const signalRows = SIGNALS.map((s) => {
    const c = t.interval[s];
    const total = t.total[s];
    return [
      s,
      formatCount(c.requests),
      formatRate(c.requests, ms),
      formatCount(c.items),
      formatRate(c.items, ms),
      formatBytes(c.bytes),
      formatCount(total.items),
    ];
  });
  out += formatTable(['signal', 'requests', 'req/s', 'items', 'items/s', 'bytes', 'total items'], signalRows);
  const refused = t.intervalRefusals();
  if (refused > 0) out += `  refused ${formatCount(refused)}: ${refusalText(t.refusals)}\n`;
  if (t.unrouted > 0 || t.dropped.size > 0) {
    const d = droppedText(t, ' (matched no route)');
    out += `  dropped ${formatCount(d.total)} items: ${d.text}\n`;
  }
  if (t.tenants.size > 0 || t.tenants.other.requests > 0) {
    const rows = t.tenants
      .top(input.topServices)
      .map((r) => [r.name, formatCount(r.counts.requests), formatCount(r.counts.items), formatBytes(r.counts.bytes)]);
    out += formatTable(['tenant', 'requests', 'items', 'bytes'], rows);
  }
  if (t.services.size > 0 || t.services.other.requests > 0) {
    const shown = Math.min(input.topServices, t.services.size);
    const label =
      t.services.size > shown || t.services.other.requests > 0
        ? `service (top ${shown} of ${t.services.size}${t.services.other.requests > 0 ? '+' : ''})`
        : 'service';
    const rows = t.services
      .top(input.topServices)
      .map((r) => [r.name, formatCount(r.counts.requests), formatCount(r.counts.items), formatBytes(r.counts.bytes)]);
    out += formatTable([label, 'requests', 'items', 'bytes'], rows);
  }
  if (input.upstreams.length > 0) {
    const rows = input.upstreams.map((u) => [
      u.name,
      u.protocol,
      formatCount(u.itemsSent),
      formatCount(u.itemsRejected),
      formatCount(u.itemsFailed),
      formatCount(u.itemsDropped),
      formatCount(u.retries),
      formatBytes(u.stats.queueBytes),
      formatCount(u.stats.inFlightRequests),
      u.calls > 0 ? formatMs(u.p50Ms) : '-',
      u.calls > 0 ? formatMs(u.p99Ms) : '-',
    ]);
    out += formatTable(['upstream', 'protocol', 'sent', 'rejected', 'failed', 'dropped', 'retries', 'queue', 'in flight', 'p50', 'p99'], rows, 2);
  }
  if (t.streams.size > 0) {
    const rows = [...t.streams].map(([name, s]) => [name, formatCount(s.tracked), formatCount(s.evictedLru), formatCount(s.evictedStale)]);
    out += formatTable(['temporality state', 'streams', 'evicted (full)', 'evicted (stale)'], rows);
  }
  if (input.queuedBytes !== undefined && input.maxQueuedBytes !== undefined) {
    out += `  queued ${formatBytes(input.queuedBytes)} of ${formatBytes(input.maxQueuedBytes)}\n`;
  }
  return out;
}
