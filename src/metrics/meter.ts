/**
 * A meter: creates instruments (validating names, deduplicating identical
 * registrations, warning on conflicting ones) and their streams through the views.
 *
 * Duplicate registrations (metrics SDK spec, "Duplicate instrument registration"):
 * names compare case-insensitively; the same name, kind, unit, description and value
 * type return the first instrument; anything else is a conflict: a warning (with the
 * view that would resolve it) and a second, independent instrument whose stream is
 * reported next to the first under the same name.
 */
import type { Clock } from '../internal/clock.js';
import { warnOnce } from '../internal/warn.js';
import { encodeScope } from '../otlp/encode/metrics.js';
import type { Attributes } from '../otlp/types.js';
import {
  buildAggregator,
  resolveAggregation,
  sameAggregation,
  validateBoundaries,
  type DefaultHistogramAggregation,
  type ResolvedAggregation,
} from './aggregate/aggregation.js';
import { KEEP_ALL } from './attribute-key.js';
import {
  isObservableKind,
  isValidInstrumentName,
  isValidInstrumentUnit,
  ValueType,
  type InstrumentDescriptor,
  type InstrumentKind,
  type MetricAdvice,
  type MetricOptions,
} from './instrument-descriptor.js';
import {
  BatchObservableResultImpl,
  CounterImpl,
  GaugeImpl,
  HistogramImpl,
  ObservableInstrumentImpl,
  ObservableResultImpl,
  UpDownCounterImpl,
  type BatchObservableCallback,
  type Counter,
  type Gauge,
  type Histogram,
  type Observable,
  type UpDownCounter,
} from './instruments.js';
import { ObservableStream } from './observable-stream.js';
import type { StreamInfo } from './stream-info.js';
import { SyncStream } from './sync-stream.js';
import type { Temporality } from './temporality.js';
import type { MeterIdentity, View } from './view.js';

/** Meter options, structurally `@opentelemetry/api`'s `MeterOptions` plus scope attributes. */
export interface MeterOptions {
  /** Schema URL of the instrumentation scope; default ''. */
  readonly schemaUrl?: string;
  /** Attributes of the instrumentation scope; default none. */
  readonly attributes?: Attributes;
}

/** Creates instruments; structurally `@opentelemetry/api`'s `Meter`. */
export interface Meter {
  createCounter(name: string, options?: MetricOptions): Counter;
  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter;
  createHistogram(name: string, options?: MetricOptions): Histogram;
  createGauge(name: string, options?: MetricOptions): Gauge;
  createObservableCounter(name: string, options?: MetricOptions): Observable;
  createObservableUpDownCounter(name: string, options?: MetricOptions): Observable;
  createObservableGauge(name: string, options?: MetricOptions): Observable;
  /** Registers `callback` to observe all of `observables` once per collection. */
  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void;
  removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void;
}

/** What a meter needs from its provider. */
export interface MeterContext {
  readonly clock: Clock;
  readonly views: readonly View[];
  readonly cardinalityLimit: number;
  readonly defaultHistogramAggregation: DefaultHistogramAggregation;
  /** Attributes added to every point (validated, frozen); `{}` for none. */
  readonly commonAttributes: Attributes;
  /** The temporality of each consumer slot for `kind` (`undefined`: the consumer is gone). */
  temporalities(kind: InstrumentKind): (Temporality | undefined)[];
}

/** A stream of either kind, in creation order. */
export type AnyStream = SyncStream | ObservableStream;

interface InstrumentRecord {
  readonly desc: InstrumentDescriptor;
  readonly instrument: object;
}

interface BatchRecord {
  readonly callback: BatchObservableCallback;
  readonly observables: Set<Observable>;
}

/** Our `Meter`, with what the provider needs to collect it. */
export class MeterImpl implements Meter {
  /** Every stream, sync and observable, in creation order. */
  readonly streams: AnyStream[] = [];
  readonly observables: ObservableInstrumentImpl[] = [];
  readonly batches: BatchRecord[] = [];
  readonly scopeBytes: Uint8Array;
  readonly identity: MeterIdentity;
  readonly #ctx: MeterContext;
  readonly #key: string;
  readonly #instruments = new Map<string, InstrumentRecord[]>();
  readonly #infosByName = new Map<string, StreamInfo[]>();

  constructor(ctx: MeterContext, key: string, name: string, version: string, options: MeterOptions) {
    this.#ctx = ctx;
    this.#key = key;
    const schemaUrl = options.schemaUrl ?? '';
    this.identity = Object.freeze({ name, version, schemaUrl });
    const scope: { name: string; version: string; attributes?: Attributes } = { name, version };
    if (options.attributes !== undefined) scope.attributes = options.attributes;
    this.scopeBytes = encodeScope(scope);
  }

  createCounter(name: string, options?: MetricOptions): Counter {
    return this.#sync('counter', name, options, (d, s) => new CounterImpl(d, s));
  }

  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    return this.#sync('updowncounter', name, options, (d, s) => new UpDownCounterImpl(d, s));
  }

  createHistogram(name: string, options?: MetricOptions): Histogram {
    return this.#sync('histogram', name, options, (d, s) => new HistogramImpl(d, s));
  }

  createGauge(name: string, options?: MetricOptions): Gauge {
    return this.#sync('gauge', name, options, (d, s) => new GaugeImpl(d, s));
  }

  createObservableCounter(name: string, options?: MetricOptions): Observable {
    return this.#observable('observablecounter', name, options);
  }

  createObservableUpDownCounter(name: string, options?: MetricOptions): Observable {
    return this.#observable('observableupdowncounter', name, options);
  }

  createObservableGauge(name: string, options?: MetricOptions): Observable {
    return this.#observable('observablegauge', name, options);
  }

  addBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    if (typeof callback !== 'function') return;
    const set = new Set(observables.filter((o) => o instanceof ObservableInstrumentImpl));
    const existing = this.batches.find((b) => b.callback === callback);
    if (existing !== undefined) {
      for (const o of set) existing.observables.add(o);
      return;
    }
    this.batches.push({ callback, observables: set });
  }

  removeBatchObservableCallback(callback: BatchObservableCallback, observables: Observable[]): void {
    const i = this.batches.findIndex((b) => b.callback === callback);
    if (i < 0) return;
    const b = this.batches[i] as BatchRecord;
    for (const o of observables) b.observables.delete(o);
    if (b.observables.size === 0) this.batches.splice(i, 1);
  }

  /**
   * Starts a collection's observations for the consumer at `index`: runs every callback
   * (synchronously; async ones keep going). Returns the promises of the async ones
   * (already caught) and `close()`, which ends the collection's observations.
   */
  observe(index: number): { pending: Promise<unknown>[]; close(): void } {
    for (const s of this.streams) if (s instanceof ObservableStream) s.begin(index);
    const results: Array<ObservableResultImpl | BatchObservableResultImpl> = [];
    const pending: Promise<unknown>[] = [];
    const run = (name: string, f: () => void | Promise<void>): void => {
      try {
        const r = f();
        if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
          pending.push(Promise.resolve(r).catch((e: unknown) => callbackFailed(name, e)));
        }
      } catch (e) {
        callbackFailed(name, e);
      }
    };
    for (const inst of this.observables) {
      if (inst.streams.length === 0 || inst.callbacks.length === 0) continue;
      const result = new ObservableResultImpl(inst, index);
      results.push(result);
      for (const cb of [...inst.callbacks]) run(inst.desc.name, () => cb(result));
    }
    for (const b of [...this.batches]) {
      const result = new BatchObservableResultImpl(b.observables, index);
      results.push(result);
      run('batch callback', () => b.callback(result));
    }
    return {
      pending,
      close: () => {
        for (const r of results) r.open = false;
      },
    };
  }

  #descriptor(kind: InstrumentKind, name: string, options: MetricOptions | undefined): InstrumentDescriptor | undefined {
    if (!isValidInstrumentName(name)) {
      warnOnce(
        `name:${String(name)}`,
        `invalid instrument name ${JSON.stringify(String(name))}: want a letter then up to 254 of [A-Za-z0-9_.-/]; the instrument records nothing`,
      );
      return undefined;
    }
    let unit = options?.unit ?? '';
    if (!isValidInstrumentUnit(unit)) {
      warnOnce(`unit:${name}`, `instrument "${name}" has an invalid unit (want ≤ 63 ASCII characters); the unit is left out`);
      unit = '';
    }
    const description = typeof options?.description === 'string' ? options.description : '';
    const valueType = options?.valueType === ValueType.INT ? ValueType.INT : ValueType.DOUBLE;
    let advice: MetricAdvice = {};
    const b = options?.advice?.explicitBucketBoundaries;
    if (b !== undefined) {
      try {
        advice = { explicitBucketBoundaries: validateBoundaries(b, 'advice.explicitBucketBoundaries') };
      } catch (e) {
        warnOnce(`advice:${name}`, `instrument "${name}": ${(e as Error).message}; the advice is ignored`);
      }
    }
    return Object.freeze({ name, kind, unit, description, valueType, advice });
  }

  /** The instrument already registered with the same identity, if any. */
  #existing(desc: InstrumentDescriptor): object | undefined {
    const list = this.#instruments.get(desc.name.toLowerCase());
    if (list === undefined) return undefined;
    for (const r of list) {
      const d = r.desc;
      if (d.kind === desc.kind && d.unit === desc.unit && d.description === desc.description && d.valueType === desc.valueType) {
        return r.instrument;
      }
    }
    return undefined;
  }

  #remember(desc: InstrumentDescriptor, instrument: object): void {
    const lname = desc.name.toLowerCase();
    const list = this.#instruments.get(lname);
    if (list === undefined) this.#instruments.set(lname, [{ desc, instrument }]);
    else list.push({ desc, instrument });
  }

  /** Stream definitions for `desc`: one per matching view, or one default. */
  #streamInfos(desc: InstrumentDescriptor): Array<{ info: StreamInfo; view: View | undefined }> {
    const ctx = this.#ctx;
    const matched = ctx.views.filter((v) => v.matches(desc, this.identity));
    const created = ctx.clock.nowNanos();
    const out: Array<{ info: StreamInfo; view: View | undefined }> = [];
    for (const view of matched.length === 0 ? [undefined] : matched) {
      let agg: ResolvedAggregation = resolveAggregation(desc, view?.aggregation ?? { type: 'default' }, ctx.defaultHistogramAggregation);
      if (agg.type === 'drop') continue;
      if (isObservableKind(desc.kind) && agg.type !== 'sum' && agg.type !== 'last_value') {
        warnOnce(
          `observable-agg:${desc.name}`,
          `a view asks for a ${agg.type} aggregation of observable "${desc.name}"; observable instruments support sum and last_value only, the default is used`,
        );
        agg = resolveAggregation(desc, { type: 'default' }, ctx.defaultHistogramAggregation);
      }
      const info: StreamInfo = Object.freeze({
        name: view?.name ?? desc.name,
        description: view?.description ?? desc.description,
        unit: desc.unit,
        kind: desc.kind,
        valueType: desc.valueType,
        aggregation: agg,
        created,
        scopeKey: this.#key,
        commonAttributes: ctx.commonAttributes,
      });
      this.#checkConflict(info);
      out.push({ info, view });
    }
    return out;
  }

  #checkConflict(info: StreamInfo): void {
    const lname = info.name.toLowerCase();
    const list = this.#infosByName.get(lname);
    if (list === undefined) {
      this.#infosByName.set(lname, [info]);
      return;
    }
    for (const other of list) {
      const differs: string[] = [];
      if (other.kind !== info.kind) differs.push(`kind ${other.kind} vs ${info.kind}`);
      if (other.unit !== info.unit) differs.push(`unit "${other.unit}" vs "${info.unit}"`);
      if (other.description !== info.description) differs.push('description');
      if (other.valueType !== info.valueType) differs.push('value type');
      if (!sameAggregation(other.aggregation, info.aggregation)) differs.push(`aggregation ${other.aggregation.type} vs ${info.aggregation.type}`);
      if (differs.length === 0) continue;
      let hint: string;
      if (differs.length === 1 && differs[0] === 'description') {
        hint = `set one description with a view: { instrumentName: '${info.name}', description: '...' }`;
      } else if (other.kind !== info.kind) {
        hint = `rename one with a view: { instrumentName: '${info.name}', instrumentKind: '${info.kind}', name: '${info.name}_${info.kind}' }`;
      } else {
        hint = 'both streams are reported under the same name';
      }
      warnOnce(
        `duplicate:${this.#key}:${lname}:${differs.join(',')}`,
        `meter "${this.identity.name}" has conflicting metric streams named "${info.name}" (${differs.join('; ')}); ${hint}`,
      );
    }
    list.push(info);
  }

  #sync<T extends object>(
    kind: InstrumentKind,
    name: string,
    options: MetricOptions | undefined,
    make: (desc: InstrumentDescriptor, streams: readonly SyncStream[]) => T,
  ): T {
    const desc = this.#descriptor(kind, name, options);
    if (desc === undefined) return make(noopDescriptor(kind), []);
    const existing = this.#existing(desc);
    if (existing !== undefined) return existing as T;
    const ctx = this.#ctx;
    const streams: SyncStream[] = [];
    for (const { info, view } of this.#streamInfos(desc)) {
      const agg = buildAggregator(info.aggregation, desc);
      if (agg === undefined) continue;
      const st = new SyncStream(info, agg, view?.filter ?? KEEP_ALL, view?.cardinalityLimit ?? ctx.cardinalityLimit);
      for (const t of ctx.temporalities(kind)) st.addConsumer(t === undefined ? undefined : t === 'delta');
      streams.push(st);
      this.streams.push(st);
    }
    const instrument = make(desc, streams);
    this.#remember(desc, instrument);
    return instrument;
  }

  #observable(kind: InstrumentKind, name: string, options: MetricOptions | undefined): Observable {
    const desc = this.#descriptor(kind, name, options);
    if (desc === undefined) return new ObservableInstrumentImpl(noopDescriptor(kind), []);
    const existing = this.#existing(desc);
    if (existing !== undefined) return existing as Observable;
    const ctx = this.#ctx;
    const streams: ObservableStream[] = [];
    for (const { info, view } of this.#streamInfos(desc)) {
      const sum = info.aggregation.type === 'sum';
      const monotonic = info.aggregation.type === 'sum' && info.aggregation.monotonic;
      const st = new ObservableStream(
        info,
        sum,
        monotonic,
        desc.valueType === ValueType.INT,
        view?.filter ?? KEEP_ALL,
        view?.cardinalityLimit ?? ctx.cardinalityLimit,
      );
      for (const t of ctx.temporalities(kind)) st.addConsumer(t === undefined ? undefined : t === 'delta');
      streams.push(st);
      this.streams.push(st);
    }
    const instrument = new ObservableInstrumentImpl(desc, streams);
    this.observables.push(instrument);
    this.#remember(desc, instrument);
    return instrument;
  }
}

function noopDescriptor(kind: InstrumentKind): InstrumentDescriptor {
  return { name: 'invalid', kind, unit: '', description: '', valueType: ValueType.DOUBLE, advice: {} };
}

function callbackFailed(name: string, e: unknown): void {
  warnOnce(`callback-error:${name}`, `a callback of "${name}" failed: ${e instanceof Error ? e.message : String(e)}`);
}
