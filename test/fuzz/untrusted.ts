/**
 * Fuzz target for everything the gateway parses from the network, in process: inputs made from
 * valid OTLP requests of all three signals (built with the gen/ schemas) by seeded mutations (bit
 * flips, random overwrites, truncation, insertion, deletion, duplicated ranges, splices of another
 * request, forged varints and lengths, random bytes, deeply nested AnyValues), fed to
 * - the zero-decode scanner (otlp/scan.ts `scanRequest`, without and with wanted attributes), then
 *   `spliceEntries` of a subset of the entries it returned, which must scan again with the same wanted
 *   attributes (only their values are read: without them every value is, so more is refused);
 * - the resource-entry rewriter (otlp/resource-entry.ts) on each entry the scanner accepted, as the
 *   `resource` processor and the `hash` edit use it; the rebuilt entry must scan again;
 * - the processors that read inside items (gateway/forward/processors/: attribute edits, redaction,
 *   filters, and temporality conversions both ways, over states that live through the run) on each
 *   entry the scanner accepted; what they leave must scan again;
 * - the protobuf → OTLP/JSON transcoder (otlp/json-from-protobuf.ts);
 * - the gRPC pass-through reader (`fromBinary(OpaqueSchema, …)` then transport/pass-through.ts `opaqueBody`);
 * - the OTLP/JSON decoder (otlp/json.ts `decodeJson`) on mutated JSON text and mutated UTF-8 bytes;
 * - gzip through the gateway's own body reader (gateway/receive/body-reader.ts `readBody`, driven by a
 *   small Readable standing in for the IncomingMessage, in random chunks), then the scanner on what it inflated.
 * The durable log's records have their own target: test/export/durable/fuzz.ts.
 *
 * Each call must return, or throw a typed rejection: WireFormatError, OtlpJsonError, or (from the
 * parsers built on protobuf-es's BinaryReader: the pass-through reader, resource-entry) one of
 * protobuf-es's decode errors, which the gateway also refuses as malformed (`isProtobufDecodeError`).
 * Anything else thrown (a TypeError, a stack overflow, ...), a call over `hangMillis`, or a retained
 * heap that grew more than `heapBoundBytes` is a failure, reported with the seed, the input number
 * and the input in hex.
 *
 * Long run (README, "Tests and benchmarks"):
 *   node --import tsx/esm test/fuzz/untrusted.ts --runs 100000 --seed 1
 * `untrusted.test.ts` runs 2,000 inputs of seed 1 in the unit suite.
 */
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { OpaqueSchema } from '../../gen/otlp_fanout/internal/v1/opaque_pb.js';
import { AggregationTemporality, type MetricSchema } from '../../gen/opentelemetry/proto/metrics/v1/metrics_pb.js';
import { type LogRecordSchema, SeverityNumber } from '../../gen/opentelemetry/proto/logs/v1/logs_pb.js';
import { Span_SpanKind, Status_StatusCode } from '../../gen/opentelemetry/proto/trace/v1/trace_pb.js';
import { readBody } from '../../src/gateway/receive/body-reader.js';
import { createChainCompiler, ProcessContext } from '../../src/gateway/forward/processors/chain.js';
import type { ProcessorChain } from '../../src/gateway/forward/processors/chain.js';
import { compileTemporality, createTemporalityState } from '../../src/gateway/forward/processors/temporality.js';
import { manualClock } from '../../src/internal/clock.js';
import { protobufToJson } from '../../src/otlp/json-from-protobuf.js';
import { renderPrometheusBytes } from '../../src/otlp/prometheus/render.js';
import { buildSeries } from '../../src/otlp/prometheus/write-request.js';
import { decodeJson, encodeJsonString, OtlpJsonError } from '../../src/otlp/json.js';
import { anyValueStringForm, buildEntry, encodeAttribute, readEntry } from '../../src/otlp/resource-entry.js';
import { scanRequest, spliceEntries, WireFormatError } from '../../src/otlp/scan.js';
import { signalSchemas } from '../../src/otlp/signal-schemas.js';
import type { Signal } from '../../src/otlp/types.js';
import { opaqueBody } from '../../src/transport/pass-through.js';
import { settledHeap } from '../support/gc.js';
import { concat, mutateBytes, type Mutation, type Pick } from '../support/mutate.js';
import { prng } from '../support/prng.js';

export const TARGETS = [
  'scan',
  'scan+wanted',
  'splice',
  'resource-entry',
  'processors',
  'json-from-protobuf',
  'prometheus',
  'opaque',
  'json',
  'gzip',
] as const;
export type Target = (typeof TARGETS)[number];

export interface TargetStats {
  inputs: number;
  /** Refused with a typed error (or, for gzip, a `bad_gzip`/`too_large` result). */
  rejected: number;
  accepted: number;
  maxMillis: number;
}

export interface FuzzReport {
  readonly runs: number;
  readonly seed: number;
  readonly targets: Readonly<Record<Target, TargetStats>>;
  readonly failures: readonly string[];
  /** Retained heap (after a full GC) before the first input and after the last. */
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly millis: number;
}

export interface FuzzOptions {
  readonly runs: number;
  readonly seed: number;
  /** A call slower than this is a hang. */
  readonly hangMillis?: number;
  /** Retained heap growth over the whole run beyond this is a failure. */
  readonly heapBoundBytes?: number;
  readonly progress?: (done: number) => void;
}

/** The errors protobuf-es's BinaryReader and `fromBinary` throw for bad bytes (and nothing else: no TypeError, no stack overflow). */
const PROTOBUF_DECODE_ERROR =
  /^(premature EOF|invalid varint|illegal tag|cant skip wire type|invalid end group tag|maximum recursion depth|cannot decode \S+ from binary)/;

export function isProtobufDecodeError(e: unknown): boolean {
  return e instanceof Error && (e.constructor === Error || e.constructor === RangeError) && PROTOBUF_DECODE_ERROR.test(e.message);
}

// ---- the corpus: valid requests of each signal ---------------------------------------

const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });
const ids = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 0xff);
const T0 = 1_700_000_000_000_000_000n;

function resource(service: string) {
  return {
    attributes: [
      { key: 'service.name', value: str(service) },
      { key: 'k8s.pod', value: str(`${service}-pod`) },
      { key: 'n', value: { value: { case: 'intValue' as const, value: -42n } } },
      { key: 'd', value: { value: { case: 'doubleValue' as const, value: 0.5 } } },
      { key: 'b', value: { value: { case: 'boolValue' as const, value: true } } },
      { key: 'bytes', value: { value: { case: 'bytesValue' as const, value: ids(5, 1) } } },
      {
        key: 'nested',
        value: {
          value: {
            case: 'kvlistValue' as const,
            value: { values: [{ key: 'arr', value: { value: { case: 'arrayValue' as const, value: { values: [str('x'), str('y')] } } } }] },
          },
        },
      },
    ],
    droppedAttributesCount: 1,
  };
}

const scope = { name: 'fuzz', version: '1.0', attributes: [{ key: 'scope.k', value: str('v') }] };

function metrics(services: readonly string[]): Uint8Array {
  const exemplars = [{ timeUnixNano: T0, value: { case: 'asDouble' as const, value: 1.5 }, spanId: ids(8, 2), traceId: ids(16, 3) }];
  const point = (i: number) => ({
    attributes: [{ key: 'p', value: str(String(i)) }],
    startTimeUnixNano: T0,
    timeUnixNano: T0 + BigInt(i),
    value: { case: 'asInt' as const, value: BigInt(i) },
    exemplars,
  });
  const metricList: MessageInitShape<typeof MetricSchema>[] = [
    { name: 'g', unit: 'ms', data: { case: 'gauge' as const, value: { dataPoints: [point(1), point(2)] } } },
    {
      name: 's',
      data: { case: 'sum' as const, value: { dataPoints: [point(3)], aggregationTemporality: AggregationTemporality.DELTA, isMonotonic: true } },
    },
    {
      name: 'h',
      data: {
        case: 'histogram',
        value: {
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPoints: [{ count: 3n, sum: 6, bucketCounts: [1n, 2n], explicitBounds: [2.5], min: 1, max: 3, exemplars, timeUnixNano: T0 }],
        },
      },
    },
    {
      name: 'e',
      data: {
        case: 'exponentialHistogram',
        value: {
          dataPoints: [
            { count: 4n, scale: 2, zeroCount: 1n, positive: { offset: -1, bucketCounts: [1n, 2n] }, negative: { offset: 3, bucketCounts: [0n] } },
          ],
        },
      },
    },
    {
      name: 'q',
      data: { case: 'summary' as const, value: { dataPoints: [{ count: 2n, sum: 1, quantileValues: [{ quantile: 0.5, value: 0.25 }] }] } },
    },
  ];
  const message = create(signalSchemas.metrics.request, {
    resourceMetrics: services.map((s) => ({
      resource: resource(s),
      schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
      scopeMetrics: [
        {
          scope,
          metrics: metricList,
        },
      ],
    })),
  });
  return toBinary(signalSchemas.metrics.request, message);
}

function logRecords(i: number): MessageInitShape<typeof LogRecordSchema>[] {
  return [
    { timeUnixNano: T0, severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: str('hello ✓'), traceId: ids(16, i), spanId: ids(8, i) },
    {
      observedTimeUnixNano: T0,
      body: {
        value: {
          case: 'kvlistValue' as const,
          value: { values: [{ key: 'a', value: { value: { case: 'doubleValue' as const, value: Number.NaN } } }] },
        },
      },
      attributes: [
        {
          key: 'l',
          value: { value: { case: 'arrayValue' as const, value: { values: [str('1'), { value: { case: 'intValue' as const, value: 9n } }] } } },
        },
      ],
      flags: 1,
      eventName: 'e',
    },
  ];
}

function logs(services: readonly string[]): Uint8Array {
  const message = create(signalSchemas.logs.request, {
    resourceLogs: services.map((s, i) => ({
      resource: resource(s),
      scopeLogs: [
        {
          scope,
          logRecords: logRecords(i),
        },
      ],
    })),
  });
  return toBinary(signalSchemas.logs.request, message);
}

function traces(services: readonly string[]): Uint8Array {
  const message = create(signalSchemas.traces.request, {
    resourceSpans: services.map((s, i) => ({
      resource: resource(s),
      scopeSpans: [
        {
          scope,
          spans: [
            {
              traceId: ids(16, i),
              spanId: ids(8, i + 1),
              parentSpanId: ids(8, i + 2),
              traceState: 'a=b',
              name: 'op',
              kind: Span_SpanKind.SERVER,
              startTimeUnixNano: T0,
              endTimeUnixNano: T0 + 1000n,
              attributes: [{ key: 'http.status', value: { value: { case: 'intValue' as const, value: 200n } } }],
              events: [{ timeUnixNano: T0, name: 'ev', attributes: [{ key: 'e', value: str('v') }] }],
              links: [{ traceId: ids(16, 9), spanId: ids(8, 9), attributes: [] }],
              status: { code: Status_StatusCode.ERROR, message: 'bad' },
            },
            { traceId: ids(16, 5), spanId: ids(8, 6), name: 'leaf' },
          ],
        },
      ],
    })),
  });
  return toBinary(signalSchemas.traces.request, message);
}

const SIGNALS: readonly Signal[] = ['metrics', 'logs', 'traces'];
const BUILD: Readonly<Record<Signal, (services: readonly string[]) => Uint8Array>> = { metrics, logs, traces };

interface Seeds {
  readonly protobuf: Readonly<Record<Signal, readonly Uint8Array[]>>;
  readonly json: Readonly<Record<Signal, readonly string[]>>;
}

function corpus(): Seeds {
  const protobuf = {} as Record<Signal, Uint8Array[]>;
  const json = {} as Record<Signal, string[]>;
  for (const s of SIGNALS) {
    protobuf[s] = [BUILD[s](['a']), BUILD[s](['a', 'b', 'c']), BUILD[s]([])];
    json[s] = protobuf[s].map((b) => encodeJsonString(signalSchemas[s].request, fromBinary(signalSchemas[s].request, b)));
  }
  return { protobuf, json };
}

// ---- mutations ---------------------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field `field` holding `payload`. */
const lenField = (field: number, payload: Uint8Array): Uint8Array => concat(varint(field * 8 + 2), varint(payload.length), payload);

/**
 * A request of `signal` whose one entry's resource has an attribute `deep` holding AnyValues nested
 * `depth` levels (alternating array and kvlist), built as bytes: protobuf-es `toBinary` would recurse.
 */
function deepRequest(depth: number, leaf: Uint8Array): Uint8Array {
  let v = lenField(1, leaf); // AnyValue { string_value }
  for (let i = 0; i < depth; i++) {
    // ArrayValue { values = 1 } in AnyValue.array_value = 5, or KeyValueList { values = 1: KeyValue { key, value = 2 } } in kvlist_value = 6.
    v = i % 2 === 0 ? lenField(5, lenField(1, v)) : lenField(6, lenField(1, concat(lenField(1, Uint8Array.of(0x6b)), lenField(2, v))));
  }
  const keyValue = concat(lenField(1, new TextEncoder().encode('deep')), lenField(2, v));
  return lenField(1, lenField(1, lenField(1, keyValue)));
}

/** The same in OTLP/JSON. */
function deepJson(signal: Signal, depth: number): string {
  let v = '{"stringValue":"x"}';
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? `{"arrayValue":{"values":[${v}]}}` : `{"kvlistValue":{"values":[{"key":"k","value":${v}}]}}`;
  const entries = { metrics: 'resourceMetrics', logs: 'resourceLogs', traces: 'resourceSpans' }[signal];
  return `{"${entries}":[{"resource":{"attributes":[{"key":"deep","value":${v}}]}}]}`;
}

/** Protobuf-aware mutations on top of the format-blind ones (test/support/mutate.ts). */
function protobufMutations(other: Uint8Array): Mutation[] {
  return [
    // splice: another request's tail (or head) at a random point
    (b, at, pick) =>
      pick(2) === 0
        ? concat(b.subarray(0, at), other.subarray(pick(Math.max(1, other.length))))
        : concat(other.subarray(0, pick(other.length + 1)), b.subarray(at)),
    // a forged varint (a length or a tag): huge, 2^31-ish, 10 bytes of continuation, or off by a little
    (b, at, pick) => {
      const forged = [
        varint(2 ** 32 - 1 - pick(16)),
        varint(2 ** 31 + pick(16)),
        Array(10 + pick(2)).fill(0xff),
        varint(pick(300)),
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
      ][pick(5)]!;
      return concat(b.subarray(0, at), forged, b.subarray(Math.min(b.length, at + 1 + pick(2))));
    },
    // a length byte nudged (the next byte after a LEN tag, most of the time)
    (b, at, pick) => {
      for (let i = at; i < b.length - 1; i++) {
        if ((b[i]! & 7) === 2) {
          b[i + 1] = (b[i + 1]! + [1, -1, 2, 0x40, 0x80][pick(5)]!) & 0xff;
          break;
        }
      }
      return b;
    },
    // a wire type changed (groups included)
    (b, at, pick) => {
      if (at < b.length) b[at] = (b[at]! & ~7) | pick(8);
      return b;
    },
    // random bytes, now and then behind a valid first tag
    (_b, _at, pick) =>
      concat(
        pick(2) === 0 ? [0x0a] : [],
        Array.from({ length: pick(512) }, () => pick(256)),
      ),
    // a valid field appended (a repeated field split, a oneof set twice, ...)
    (b, _at, pick) => concat(b, other.subarray(0, pick(other.length + 1))),
  ];
}

function mutateProtobuf(input: Uint8Array, pick: Pick, other: Uint8Array): Uint8Array {
  return mutateBytes(input, pick, 32, protobufMutations(other));
}

const JSON_TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  'null',
  'true',
  '-',
  '1e999',
  '-0',
  '12345678901234567890',
  '-9223372036854775809',
  '0.5',
  '"zz"',
  '"NaN"',
  '"\\ud800"',
  '{"stringValue":1}',
  '"traceId":"0102"',
  '"spanId":"ZZZZZZZZZZZZZZZZ"',
  '"intValue":"1.5"',
  '"value":{}',
  '"bytesValue":"!!"',
  '[[[[[[[[',
  '"__proto__":{}',
];

function mutateText(input: string, pick: Pick, other: string): string {
  let t = input;
  const steps = 1 + pick(3);
  for (let s = 0; s < steps; s++) {
    const at = pick(t.length + 1);
    switch (pick(7)) {
      case 0: // a character replaced
        t = t.slice(0, at) + String.fromCharCode(pick(2) === 0 ? 32 + pick(95) : pick(0x10000)) + t.slice(at + 1);
        break;
      case 1: // a token inserted
        t = t.slice(0, at) + JSON_TOKENS[pick(JSON_TOKENS.length)]! + t.slice(at);
        break;
      case 2: // a token replacing the next few characters
        t = t.slice(0, at) + JSON_TOKENS[pick(JSON_TOKENS.length)]! + t.slice(at + 1 + pick(8));
        break;
      case 3: // truncation
        t = t.slice(0, at);
        break;
      case 4: // deletion
        t = t.slice(0, at) + t.slice(at + 1 + pick(32));
        break;
      case 5: // splice with another document
        t = t.slice(0, at) + other.slice(pick(other.length + 1));
        break;
      default: {
        // a number or string value replaced
        const m = /(-?\d+(\.\d+)?|"[^"]*")/g;
        const all = [...t.matchAll(m)];
        if (all.length === 0) break;
        const hit = all[pick(all.length)]!;
        const replacement = ['"', '1e400', '"x"', '[]', '{}', 'null', '-1', '4294967296', '"AAECAw=="', '"0x1"', '01'][pick(11)]!;
        t = t.slice(0, hit.index) + replacement + t.slice(hit.index + hit[0].length);
      }
    }
  }
  return t;
}

// ---- the run -------------------------------------------------------------------------

const hex = (b: Uint8Array | string): string => {
  const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const h = bytes.subarray(0, 256).toString('hex');
  return bytes.length > 256 ? `${h}… (${bytes.length} bytes)` : `${h} (${bytes.length} bytes)`;
};

/** A Readable standing in for the request: what readBody reads (`headers`, `complete`, data/end/close). */
function fakeRequest(chunks: readonly Uint8Array[]): IncomingMessage {
  const stream = Readable.from(
    chunks.map((c) => Buffer.from(c)),
    { objectMode: false },
  );
  return Object.assign(stream, { headers: {}, complete: true }) as unknown as IncomingMessage;
}

const WANTED: ReadonlySet<string> = new Set(['service.name', 'k8s.pod', 'n', 'd', 'b', 'nested', 'deep', 'bytes']);
const GZIP_CAP = 256 * 1024;

/** Runs `runs` seeded inputs; returns what it found (failures listed, never thrown). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const hangMillis = options.hangMillis ?? 1000;
  const heapBound = options.heapBoundBytes ?? 64 * 1024 * 1024;
  const random = prng(options.seed);
  const pick: Pick = (n) => Math.floor(random() * n);
  const seeds = corpus();
  const targets = Object.fromEntries(TARGETS.map((t) => [t, { inputs: 0, rejected: 0, accepted: 0, maxMillis: 0 }])) as Record<Target, TargetStats>;
  const failures: string[] = [];
  const started = performance.now();
  const heapBefore = settledHeap();
  let what = '';

  /** Calls `fn` as target `target`; true when it returned. */
  const call = <T>(target: Target, input: Uint8Array | string, fn: () => T, typed: (e: unknown) => boolean): T | undefined => {
    const stats = targets[target];
    stats.inputs++;
    const t0 = performance.now();
    try {
      const result = fn();
      stats.accepted++;
      return result;
    } catch (e) {
      if (typed(e)) stats.rejected++;
      else failures.push(`${target}: ${what}: unexpected ${(e as Error)?.stack ?? String(e)}\n  input: ${hex(input)}`);
      return undefined;
    } finally {
      const ms = performance.now() - t0;
      stats.maxMillis = Math.max(stats.maxMillis, ms);
      if (ms > hangMillis) failures.push(`${target}: ${what}: hang: ${ms.toFixed(0)} ms\n  input: ${hex(input)}`);
    }
  };
  const wire = (e: unknown) => e instanceof WireFormatError;
  const wireOrProtobuf = (e: unknown) => e instanceof WireFormatError || isProtobufDecodeError(e);
  const jsonError = (e: unknown) => e instanceof OtlpJsonError;
  const edit = encodeAttribute('fuzz.added', 'v');
  // Every item-level processor, then a conversion (each way): states kept through the run, as a gateway's are.
  const clock = manualClock(1n);
  const chains: ProcessorChain[] = (['delta', 'cumulative'] as const).map((to) => {
    const state = createTemporalityState({ to, maxStreams: 64, staleAfterMillis: 60_000, firstPoint: 'auto' }, clock);
    return createChainCompiler().chain(
      [
        {
          kind: 'attributes',
          edits: [
            { action: 'upsert', key: 'k', value: 1 },
            { action: 'hash', key: 'attr.k' },
            { action: 'delete', key: 'e' },
          ],
        },
        { kind: 'redact', keys: ['service.name'] },
        {
          kind: 'filter',
          metricNames: ['q*'],
          minSeverity: 9,
          logBodies: ['*x*'],
          logAttributes: [{ key: 'k', pattern: 'v*' }],
          spanNames: ['leaf'],
        },
      ],
      { key: `fuzz:${to}`, step: compileTemporality(state, clock) },
    )!;
  });

  /** Every parser of protobuf bytes, in the order the gateway applies them. */
  const protobufTargets = (signal: Signal, body: Uint8Array): void => {
    const schema: DescMessage = signalSchemas[signal].request;
    call('scan', body, () => scanRequest(signal, body), wire);
    const scan = call('scan+wanted', body, () => scanRequest(signal, body, WANTED), wire);
    if (scan !== undefined) {
      const subset = scan.entries.filter(() => pick(2) === 0);
      call(
        'splice',
        body,
        () => {
          const spliced = spliceEntries(body, subset);
          const again = scanRequest(signal, spliced, WANTED);
          const items = subset.reduce((n, e) => n + e.items, 0);
          // An invariant, not a rejection: a plain Error here is a failure.
          if (again.items !== items) throw new Error(`spliced request has ${again.items} items, expected ${items}`);
        },
        () => false,
      );
      for (const entry of scan.entries.slice(0, 4)) {
        const bytes = body.subarray(entry.start, entry.end);
        call(
          'resource-entry',
          bytes,
          () => {
            const parts = readEntry(bytes);
            for (const a of parts.attributes) anyValueStringForm(a.value);
            const rebuilt = buildEntry(parts, [...parts.attributes.map((a) => a.field), edit.field]);
            // A rebuilt entry is a request of one entry: it scans as the original did, one attribute more.
            const again = scanRequest(signal, rebuilt, WANTED);
            if (again.items !== entry.items) throw new Error(`rebuilt entry has ${again.items} items, expected ${entry.items}`);
          },
          wireOrProtobuf,
        );
      }
    }
    if (scan !== undefined) {
      for (const entry of scan.entries.slice(0, 4)) {
        const bytes = body.subarray(entry.start, entry.end);
        const chain = chains[pick(2)]!;
        call(
          'processors',
          bytes,
          () => {
            const out = chain.processEntry(bytes, new ProcessContext(signal));
            // What is left is a request of (at most) one entry, which must scan again.
            if (out.length > 0) scanRequest(signal, out, WANTED);
          },
          wireOrProtobuf,
        );
      }
    }
    call('json-from-protobuf', body, () => protobufToJson(schema, body), wire);
    // What the remote write and scrape upstreams do with received metrics: the one Prometheus translation.
    if (signal === 'metrics') {
      call(
        'prometheus',
        body,
        () => buildSeries([body], ['cluster', 'c']).samples + renderPrometheusBytes([body], { format: 'openmetrics' }).length,
        wireOrProtobuf,
      );
    }
    call('opaque', body, () => opaqueBody(fromBinary(OpaqueSchema, body)), isProtobufDecodeError);
  };

  for (let run = 0; run < options.runs; run++) {
    what = `seed ${options.seed} input ${run}`;
    const signal = SIGNALS[run % 3]!;
    const valid = seeds.protobuf[signal];
    const kind = pick(100);
    if (kind < 2) {
      // Deeply nested AnyValues, as bytes and as JSON.
      const depth = [50, 99, 100, 101, 1000, 3000][pick(6)]!;
      const body = deepRequest(depth, Uint8Array.of(0x78));
      protobufTargets(signal, pick(2) === 0 ? body : mutateProtobuf(body, pick, valid[0]!));
      const text = deepJson(signal, depth);
      call('json', text, () => decodeJson(signalSchemas[signal].request, text), jsonError);
    } else if (kind < 22) {
      // JSON text (or its UTF-8 bytes) mutated.
      const docs = seeds.json[signal];
      const doc = docs[pick(docs.length)]!;
      if (pick(4) === 0) {
        const bytes = mutateProtobuf(new TextEncoder().encode(doc), pick, new TextEncoder().encode(docs[pick(docs.length)]!));
        call('json', bytes, () => decodeJson(signalSchemas[signal].request, bytes), jsonError);
      } else {
        const text = mutateText(doc, pick, seeds.json[SIGNALS[pick(3)]!][pick(3)]!);
        call('json', text, () => decodeJson(signalSchemas[signal].request, text), jsonError);
      }
    } else if (kind < 30) {
      // gzip: a compressed valid request, mutated or not, in random chunks; now and then a bomb.
      const plain = pick(8) === 0 ? new Uint8Array(GZIP_CAP * (1 + pick(8))) : valid[pick(valid.length)]!;
      const gz = gzipSync(plain);
      const input = pick(4) === 0 ? gz : mutateProtobuf(gz, pick, gzipSync(valid[0]!));
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < input.length; ) {
        const n = 1 + pick(input.length - at);
        chunks.push(input.subarray(at, at + n));
        at += n;
      }
      const stats = targets.gzip;
      stats.inputs++;
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        readBody(fakeRequest(chunks), true, GZIP_CAP).catch((e: unknown) => e as Error),
        new Promise<'hang'>((resolve) => {
          timer = setTimeout(() => resolve('hang'), hangMillis);
        }),
      ]);
      clearTimeout(timer);
      const ms = performance.now() - t0;
      stats.maxMillis = Math.max(stats.maxMillis, ms);
      if (result === 'hang' || result instanceof Error || result.kind === 'aborted') {
        const why = result === 'hang' ? `hang: no result in ${hangMillis} ms` : result instanceof Error ? `unexpected ${result.stack}` : 'aborted';
        failures.push(`gzip: ${what}: ${why}\n  input: ${hex(input)}`);
      } else if (result.kind === 'ok') {
        stats.accepted++;
        if (result.body.length > GZIP_CAP) failures.push(`gzip: ${what}: ${result.body.length} bytes inflated past the cap ${GZIP_CAP}`);
        call('scan', result.body, () => scanRequest(signal, result.body), wire);
      } else {
        stats.rejected++;
      }
    } else {
      // Protobuf bytes mutated (some splices take another signal's request).
      const other = seeds.protobuf[SIGNALS[pick(3)]!][pick(3)]!;
      protobufTargets(signal, mutateProtobuf(valid[pick(valid.length)]!, pick, other));
    }
    if (failures.length >= 20) break;
    options.progress?.(run + 1);
  }
  const heapAfter = settledHeap();
  if (heapAfter - heapBefore > heapBound) {
    failures.push(
      `memory: seed ${options.seed}: retained heap grew ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB (bound ${heapBound / 1048576} MiB)`,
    );
  }
  return { runs: options.runs, seed: options.seed, targets, failures, heapBefore, heapAfter, millis: performance.now() - started };
}

/** The summary printed by the command line and kept in the README. */
export function formatReport(r: FuzzReport): string {
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  const lines = [
    `untrusted-input fuzz: ${r.runs} inputs (seed ${r.seed}), ${r.failures.length} failures, ${(r.millis / 1000).toFixed(1)} s, ` +
      `heap ${mib(r.heapBefore)} before, ${mib(r.heapAfter)} after (after GC)`,
    `${'target'.padEnd(20)}${'inputs'.padStart(9)}${'rejected'.padStart(10)}${'accepted'.padStart(10)}${'max ms'.padStart(9)}`,
  ];
  for (const t of TARGETS) {
    const s = r.targets[t];
    lines.push(
      `${t.padEnd(20)}${String(s.inputs).padStart(9)}${String(s.rejected).padStart(10)}${String(s.accepted).padStart(10)}${s.maxMillis.toFixed(1).padStart(9)}`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? fallback : Number(process.argv[i + 1]);
  };
  const runs = arg('runs', 100_000);
  const seed = arg('seed', 1);
  let peakRss = 0;
  const report = await runFuzz({
    runs,
    seed,
    progress: (done) => {
      if (done % 1000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (done % 10_000 === 0) console.log(`${done} / ${runs}`);
    },
  });
  console.log(formatReport(report));
  console.log(`peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`);
  for (const f of report.failures) console.log(f);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}
