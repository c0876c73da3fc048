/**
 * Prometheus remote write 1.0 as a Transport: it takes OTLP metrics requests like every upstream's
 * transport (so the gateway's queues, retries, batching and durable storage apply unchanged) and sends
 * each as snappy-compressed `WriteRequest`s (otlp/prometheus/write-request.ts, snappy.ts) with the
 * protocol's headers: `Content-Encoding: snappy`, `Content-Type: application/x-protobuf`,
 * `X-Prometheus-Remote-Write-Version: 0.1.0`, our `User-Agent`.
 *
 * Order. A receiver refuses a sample older than the last one it took for its series, so a series must
 * never be sent by two senders at once. The backend in front of this transport delivers one request at
 * a time (gateway/forward/upstream.ts sets its concurrency to 1: a request is retried until it is
 * delivered or given up before the next starts), and this transport spreads one request over `shards`
 * parallel POSTs, each series always in the same shard (a hash of its label set). A series is thus in
 * one POST per request, requests go in queue order, and a retry re-sends only the shards that failed
 * (remembered per request body), so a shard already taken is not sent twice.
 *
 * Left out and counted (a `partial` result, so the backend's `itemsRejected` shows them): points of
 * delta Sums and Histograms (remote write carries cumulative values; the gateway's remote write upstream
 * converts them first by default, docs/gateway.md, Prometheus),
 * and logs or traces routed here.
 */
import { Agent } from 'undici';
import type { Signal } from '../../otlp/types.js';
import { buildSeries, encodeWriteRequest, type RemoteSeries } from '../../otlp/prometheus/write-request.js';
import { scanRequest } from '../../otlp/scan.js';
import { isFailed, openCallScope, precheck } from '../call-scope.js';
import { closableTransport } from '../closable.js';
import { failureFromError } from '../error-mapping.js';
import { send } from '../http.js';
import { nodeTlsOptions, USER_AGENT, validateTransportOptions, type OtlpTransportOptions } from '../options.js';
import { failed, remoteWriteFailure, type FailedResult } from '../retryable.js';
import type { ExportCallOptions, ExportResult, Transport } from '../types.js';
import { snappyCompress } from './snappy.js';

/** What remote write takes besides the connection options. */
export interface RemoteWriteExtras {
  /** Labels added to every series that has no label of that name (Prometheus's `external_labels`). Default: none. */
  readonly externalLabels?: Readonly<Record<string, string>> | undefined;
  /** Parallel POSTs per request, series hashed to one each. Default 1. */
  readonly shards?: number | undefined;
}

/** Options of {@link createRemoteWriteTransport}: `signalEndpoints.metrics` is the write URL, as given. */
export interface RemoteWriteTransportOptions extends OtlpTransportOptions, RemoteWriteExtras {}

/** Remote write's protocol version header value (1.0 spec). */
export const REMOTE_WRITE_VERSION = '0.1.0';

/** Error bodies are read up to this much for the message (a receiver says why it refused). */
const MAX_ERROR_BODY = 4096;

export function createRemoteWriteTransport(options: RemoteWriteTransportOptions): Transport {
  const opts = validateTransportOptions(options, 'http');
  const url = opts.urls.metrics;
  const target = { origin: url.origin, path: `${url.pathname}${url.search}` };
  const shards = Math.max(1, Math.floor(options.shards ?? 1));
  const external = Object.entries(options.externalLabels ?? {}).flat();
  const agent = new Agent({ keepAliveTimeout: 4000, connect: nodeTlsOptions(opts.tls) });
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    ...opts.headers,
    'content-type': 'application/x-protobuf',
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': REMOTE_WRITE_VERSION,
  };
  // Shards of a request already settled (taken, or refused for good), by its body: the backend retries
  // with the same bytes. Weak: a request given up on takes its entry with it.
  const delivered = new WeakMap<Uint8Array, { done: Set<number>; refused: FailedResult[]; refusedSamples: number }>();

  /** One POST, with its own call scope (a scope has one listener: one request in flight). */
  async function post(series: readonly RemoteSeries[], callOptions: ExportCallOptions | undefined): Promise<ExportResult> {
    const scope = openCallScope(opts.timeoutMillis, callOptions);
    if (isFailed(scope)) return scope;
    try {
      const response = await send(agent, target, headers, snappyCompress(encodeWriteRequest(series)), scope, MAX_ERROR_BODY);
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { kind: 'ok' };
      const text = response.body === 'too_large' ? '' : Buffer.from(response.body).toString('utf8').trim();
      const retryAfter = response.headers['retry-after'];
      return remoteWriteFailure(
        status,
        `HTTP ${status}${text === '' ? '' : `: ${text}`}`,
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        Date.now(),
      );
    } catch (e) {
      return failureFromError(e, scope);
    } finally {
      scope.dispose();
    }
  }

  async function call(signal: Signal, body: Uint8Array, callOptions: ExportCallOptions | undefined): Promise<ExportResult> {
    if (signal !== 'metrics')
      return { kind: 'partial', rejected: itemsOf(signal, body), message: `remote write carries metrics only; ${signal} are not sent` };
    const refused = precheck(signal, body, opts.maxRequestBytes);
    if (refused !== undefined) return refused;
    let batch: ReturnType<typeof buildSeries>;
    try {
      batch = buildSeries([body], external);
    } catch (e) {
      return failed('rejected', `undecodable metrics request: ${String(e)}`, false, { cause: e });
    }
    const groups: RemoteSeries[][] = Array.from({ length: shards }, () => []);
    for (const s of batch.series) groups[shards === 1 ? 0 : shardOf(s.key, shards)]!.push(s);
    const state = delivered.get(body) ?? { done: new Set<number>(), refused: [] as FailedResult[], refusedSamples: 0 };
    const results = await Promise.all(groups.map((g, i) => (g.length === 0 || state.done.has(i) ? OK : post(g, callOptions))));
    let retry: FailedResult | undefined;
    let other: FailedResult | undefined;
    results.forEach((r, i) => {
      if (r.kind !== 'failed') state.done.add(i);
      else if (r.retryable) retry ??= r;
      else if (r.error.code === 'rejected' && r.error.status !== undefined) {
        // Refused for good by the receiver (a 4xx): retrying cannot help, and must not hold the other shards back.
        state.done.add(i);
        state.refused.push(r);
        for (const x of groups[i]!) state.refusedSamples += x.samples.length;
      } else other ??= r; // aborted, too large, a bug: not the receiver's verdict on this shard
    });
    if (other !== undefined) {
      delivered.delete(body);
      return other;
    }
    if (retry !== undefined) {
      // The backend retries with these same bytes; only the shards not yet done are sent again.
      delivered.set(body, state);
      return retry;
    }
    delivered.delete(body);
    if (state.refused.length > 0) {
      // Every shard refused: the request failed. Some: the rest was taken, as a partial success (in samples).
      if (state.refused.length === groups.filter((g) => g.length > 0).length) return state.refused[0]!;
      return { kind: 'partial', rejected: state.refusedSamples, message: `remote write refused some samples: ${state.refused[0]!.error.message}` };
    }
    if (batch.deltaPoints > 0) {
      return {
        kind: 'partial',
        rejected: batch.deltaPoints,
        message: 'delta sums and histograms are not sent by remote write (convert them to cumulative first)',
      };
    }
    return OK;
  }

  return closableTransport('protobuf', call, () => agent.close());
}

const OK: ExportResult = Object.freeze({ kind: 'ok' });

/** FNV-1a of the series key: stable across requests and processes, so a series keeps its shard. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

function itemsOf(signal: Signal, body: Uint8Array): number {
  try {
    return scanRequest(signal, body).items;
  } catch {
    return 0;
  }
}
