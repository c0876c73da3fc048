/**
 * Instruments: the user-facing hot path. Structurally compatible with the
 * `@opentelemetry/api` 1.9 metric interfaces, plus `bind()`.
 *
 * Everything is decided when the instrument is created (STYLE.md §6): its streams
 * (one per matching view; none when every view drops it, or when the name was
 * invalid), whether values are truncated to integers. `add()`/`record()` on an
 * existing series looks the series up and updates its interval cell: no allocation,
 * no clock, no option lookup. A bound handle holds its series directly.
 */
import { warnOnce } from '../internal/warn.js';
import type { Attributes } from '../otlp/types.js';
import type { InstrumentDescriptor } from './instrument-descriptor.js';
import type { ObservableStream } from './observable-stream.js';
import { Series } from './series.js';
import type { SyncStream } from './sync-stream.js';

/** A handle bound to one attribute set of a Counter or UpDownCounter. */
export interface BoundCounter {
  /** Adds `value` to the bound series. */
  add(value: number): void;
}

/** A handle bound to one attribute set of a Histogram or Gauge. */
export interface BoundRecorder {
  /** Records `value` in the bound series. */
  record(value: number): void;
}

/** Monotonic sum instrument. Negative values and NaN are dropped with a one-time warning. */
export interface Counter {
  add(value: number, attributes?: Attributes, context?: unknown): void;
  /** A handle that adds straight into the series of `attributes`; the series is kept for the life of the stream. */
  bind(attributes?: Attributes): BoundCounter;
}

/** Non-monotonic sum instrument. NaN is dropped with a one-time warning. */
export interface UpDownCounter {
  add(value: number, attributes?: Attributes, context?: unknown): void;
  bind(attributes?: Attributes): BoundCounter;
}

/** Distribution instrument. Negative, NaN and infinite values are dropped with a one-time warning. */
export interface Histogram {
  record(value: number, attributes?: Attributes, context?: unknown): void;
  bind(attributes?: Attributes): BoundRecorder;
}

/** Synchronous last-value instrument. */
export interface Gauge {
  record(value: number, attributes?: Attributes, context?: unknown): void;
  bind(attributes?: Attributes): BoundRecorder;
}

/** What a callback of one observable instrument reports through. */
export interface ObservableResult {
  observe(value: number, attributes?: Attributes): void;
}

/** A callback of one observable instrument; may be async (the collection waits for it). */
export type ObservableCallback = (result: ObservableResult) => void | Promise<void>;

/** An observable (asynchronous) instrument. */
export interface Observable {
  addCallback(callback: ObservableCallback): void;
  removeCallback(callback: ObservableCallback): void;
}

/** What a batch callback reports through. */
export interface BatchObservableResult {
  observe(observable: Observable, value: number, attributes?: Attributes): void;
}

/** A callback observing several instruments at once. */
export type BatchObservableCallback = (result: BatchObservableResult) => void | Promise<void>;

/** A series that belongs to no stream: the target of instruments without streams. */
class NoopSeries extends Series {
  measure(): void {}
  reset(): void {}
}
const NOOP_SERIES: Series = new NoopSeries(Object.freeze({}), 0, 0n, -1);

function dropValue(name: string, value: number, why: string): void {
  warnOnce(`value:${why}:${name}`, `instrument "${name}" got ${value}: ${why}; such values are dropped`);
}

/**
 * An INT instrument's value: truncated toward zero (with a one-time warning, as the
 * official SDK does), or NaN when there is no integer to keep.
 */
function intValue(name: string, value: number): number {
  warnOnce(`value:int:${name}`, `INT instrument "${name}" got the non-integer ${value}; it is truncated`);
  const t = Math.trunc(value);
  return Number.isFinite(t) ? t : NaN;
}

function measureRest(rest: readonly SyncStream[], value: number, attributes: Attributes | undefined): void {
  for (let i = 0; i < rest.length; i++) {
    const st = rest[i] as SyncStream;
    (attributes === undefined ? st.noAttributes() : st.lookup(attributes)).measure(value);
  }
}

/** Fields shared by the synchronous instruments. */
abstract class SyncInstrument {
  /** First stream, inlined for the common single-stream case. */
  readonly s0: SyncStream | undefined;
  readonly rest: readonly SyncStream[] | undefined;
  readonly isInt: boolean;
  readonly name: string;

  constructor(desc: InstrumentDescriptor, streams: readonly SyncStream[]) {
    this.name = desc.name;
    this.isInt = desc.valueType === 0;
    this.s0 = streams[0];
    this.rest = streams.length > 1 ? streams.slice(1) : undefined;
  }

  protected bindSeries(attributes: Attributes | undefined): { s: Series; more: Series[] | undefined } {
    const s = this.s0 === undefined ? NOOP_SERIES : this.s0.bind(attributes);
    const more = this.rest?.map((st) => st.bind(attributes));
    return { s, more };
  }
}

/** Counter implementation. */
export class CounterImpl extends SyncInstrument implements Counter {
  add(value: number, attributes?: Attributes): void {
    if (!(value >= 0)) return dropValue(this.name, value, 'a counter only adds non-negative values');
    if (this.isInt && !Number.isInteger(value)) {
      value = intValue(this.name, value);
      if (value !== value) return;
    }
    const st = this.s0;
    if (st === undefined) return;
    (attributes === undefined ? st.noAttributes() : st.lookup(attributes)).measure(value);
    if (this.rest !== undefined) measureRest(this.rest, value, attributes);
  }

  bind(attributes?: Attributes): BoundCounter {
    const b = this.bindSeries(attributes);
    return new BoundMonotonic(b.s, b.more, this.name, this.isInt);
  }
}

/** UpDownCounter implementation. */
export class UpDownCounterImpl extends SyncInstrument implements UpDownCounter {
  // The same body as CounterImpl.add but for the value check, on purpose: add()/record() are the hot
  // path, one monomorphic method per instrument class with the check inlined (STYLE, Hot path).
  add(value: number, attributes?: Attributes): void {
    if (value !== value) return dropValue(this.name, value, 'NaN has no meaning in a sum');
    if (this.isInt && !Number.isInteger(value)) {
      value = intValue(this.name, value);
      if (value !== value) return;
    }
    const st = this.s0;
    if (st === undefined) return;
    (attributes === undefined ? st.noAttributes() : st.lookup(attributes)).measure(value);
    if (this.rest !== undefined) measureRest(this.rest, value, attributes);
  }

  bind(attributes?: Attributes): BoundCounter {
    const b = this.bindSeries(attributes);
    return new BoundAny(b.s, b.more, this.name, this.isInt);
  }
}

/** Histogram implementation. */
export class HistogramImpl extends SyncInstrument implements Histogram {
  record(value: number, attributes?: Attributes): void {
    if (!(value >= 0 && value < Infinity)) return dropValue(this.name, value, 'a histogram records finite non-negative values');
    if (this.isInt && !Number.isInteger(value)) value = intValue(this.name, value);
    const st = this.s0;
    if (st === undefined) return;
    (attributes === undefined ? st.noAttributes() : st.lookup(attributes)).measure(value);
    if (this.rest !== undefined) measureRest(this.rest, value, attributes);
  }

  bind(attributes?: Attributes): BoundRecorder {
    const b = this.bindSeries(attributes);
    return new BoundHistogram(b.s, b.more, this.name, this.isInt);
  }
}

/** Gauge implementation. */
export class GaugeImpl extends SyncInstrument implements Gauge {
  record(value: number, attributes?: Attributes): void {
    if (this.isInt && !Number.isInteger(value)) {
      value = intValue(this.name, value);
      if (value !== value) return;
    }
    const st = this.s0;
    if (st === undefined) return;
    (attributes === undefined ? st.noAttributes() : st.lookup(attributes)).measure(value);
    if (this.rest !== undefined) measureRest(this.rest, value, attributes);
  }

  bind(attributes?: Attributes): BoundRecorder {
    const b = this.bindSeries(attributes);
    return new BoundAny(b.s, b.more, this.name, this.isInt);
  }
}

function measureMore(more: readonly Series[], value: number): void {
  for (let i = 0; i < more.length; i++) (more[i] as Series).measure(value);
}

/** Bound Counter handle. */
class BoundMonotonic implements BoundCounter {
  constructor(
    readonly s: Series,
    readonly more: Series[] | undefined,
    readonly name: string,
    readonly isInt: boolean,
  ) {}

  add(value: number): void {
    if (!(value >= 0)) return dropValue(this.name, value, 'a counter only adds non-negative values');
    if (this.isInt && !Number.isInteger(value)) {
      value = intValue(this.name, value);
      if (value !== value) return;
    }
    this.s.measure(value);
    if (this.more !== undefined) measureMore(this.more, value);
  }
}

/** Bound UpDownCounter and Gauge handle. */
class BoundAny implements BoundCounter, BoundRecorder {
  constructor(
    readonly s: Series,
    readonly more: Series[] | undefined,
    readonly name: string,
    readonly isInt: boolean,
  ) {}

  add(value: number): void {
    if (this.isInt && !Number.isInteger(value)) {
      value = intValue(this.name, value);
      if (value !== value) return;
    }
    this.s.measure(value);
    if (this.more !== undefined) measureMore(this.more, value);
  }

  record(value: number): void {
    this.add(value);
  }
}

/** Bound Histogram handle. */
class BoundHistogram implements BoundRecorder {
  constructor(
    readonly s: Series,
    readonly more: Series[] | undefined,
    readonly name: string,
    readonly isInt: boolean,
  ) {}

  record(value: number): void {
    if (!(value >= 0 && value < Infinity)) return dropValue(this.name, value, 'a histogram records finite non-negative values');
    if (this.isInt && !Number.isInteger(value)) value = intValue(this.name, value);
    this.s.measure(value);
    if (this.more !== undefined) measureMore(this.more, value);
  }
}

/** Observable instrument implementation: its callbacks and streams. */
export class ObservableInstrumentImpl implements Observable {
  readonly callbacks: ObservableCallback[] = [];

  constructor(
    readonly desc: InstrumentDescriptor,
    readonly streams: readonly ObservableStream[],
  ) {}

  addCallback(callback: ObservableCallback): void {
    if (typeof callback !== 'function') {
      warnOnce(`callback:${this.desc.name}`, `addCallback on "${this.desc.name}" got a ${typeof callback}, not a function; ignored`);
      return;
    }
    if (!this.callbacks.includes(callback)) this.callbacks.push(callback);
  }

  removeCallback(callback: ObservableCallback): void {
    const i = this.callbacks.indexOf(callback);
    if (i >= 0) this.callbacks.splice(i, 1);
  }

  /** Records one observation for the consumer at `index`. */
  observe(index: number, value: unknown, attributes: Attributes | undefined): void {
    if (typeof value !== 'number' || value !== value) {
      warnOnce(`value:observe:${this.desc.name}`, `observable "${this.desc.name}" observed ${String(value)}, not a number; dropped`);
      return;
    }
    let v = value;
    if (this.desc.valueType === 0 && !Number.isInteger(v)) {
      v = intValue(this.desc.name, v);
      if (v !== v) return;
    }
    for (let i = 0; i < this.streams.length; i++) (this.streams[i] as ObservableStream).observe(index, v, attributes);
  }
}

/**
 * The result a callback observes through during one collection. Closed when the
 * collection stops waiting for callbacks: a late observation from an async callback
 * is dropped rather than counted in a later collection.
 */
export class ObservableResultImpl implements ObservableResult {
  open = true;

  constructor(
    readonly instrument: ObservableInstrumentImpl,
    readonly index: number,
  ) {}

  observe(value: number, attributes?: Attributes): void {
    if (!this.open) {
      warnOnce(`late:${this.instrument.desc.name}`, `a callback of "${this.instrument.desc.name}" observed after its collection ended; dropped`);
      return;
    }
    this.instrument.observe(this.index, value, attributes);
  }
}

/** The result of one batch callback during one collection. */
export class BatchObservableResultImpl implements BatchObservableResult {
  open = true;

  constructor(
    readonly observables: ReadonlySet<Observable>,
    readonly index: number,
  ) {}

  observe(observable: Observable, value: number, attributes?: Attributes): void {
    if (!(observable instanceof ObservableInstrumentImpl)) return;
    if (!this.open) {
      warnOnce(`late:${observable.desc.name}`, `a batch callback observed "${observable.desc.name}" after its collection ended; dropped`);
      return;
    }
    if (!this.observables.has(observable)) {
      warnOnce(`batch:${observable.desc.name}`, `a batch callback observed "${observable.desc.name}", which it was not registered for; dropped`);
      return;
    }
    observable.observe(this.index, value, attributes);
  }
}
