/**
 * One metric stream of an asynchronous (observable) instrument.
 *
 * Callbacks run once per collection of the consumer that collects, and what they
 * observe goes to that consumer only: each consumer has its own `ObservationState`.
 * A collection reports exactly the attribute sets observed in it; sets not observed
 * are forgotten (with their previous value). Observations that meet in one series
 * within a collection (a view dropped the keys that told them apart) add up for a
 * Sum and replace each other for a Last Value, as in opentelemetry-go.
 *
 * Temporality:
 * - cumulative: the observed value, starting at instrument creation — the callback
 *   reports an absolute total that it counted since before we looked, so creation is
 *   the latest start that is certainly not after the first counted event, and it never
 *   changes, which lets backends detect resets.
 * - delta (Sum): the difference from this consumer's previous observation of the set
 *   (from 0 the first time), starting at its previous collection. A monotonic sum that
 *   went down was reset: its new value is the delta.
 *
 * Cardinality (metrics SDK spec: asynchronous instruments prefer the first-observed
 * attributes): in each collection the first `limit - 1` distinct sets get their own
 * point; the others are folded into the overflow point.
 */
import { encodeKeyValues } from '../otlp/encode/common.js';
import { POINT_ATTRIBUTES_FIELD } from '../otlp/encode/metrics.js';
import type { Attributes } from '../otlp/types.js';
import { warnOnce } from '../internal/warn.js';
import { AttributeTable, attributesHash, copyAttributes, withCommonAttributes, type AttributeFilter, type Keyed } from './attribute-key.js';
import { numberPointSize } from './aggregate/sum.js';
import { NO_ATTRS, numberPoint, writeNumberDataPoint, type NumberPoint } from '../otlp/encode/metrics.js';
import type { RequestBuilder } from './request-builder.js';
import type { StreamInfo } from './stream-info.js';
import { OVERFLOW_ATTRIBUTES } from './sync-stream.js';

const NO_ATTRIBUTES: Attributes = Object.freeze({});
const OVERFLOW_BYTES = encodeKeyValues(POINT_ATTRIBUTES_FIELD.sum, OVERFLOW_ATTRIBUTES);

/** The overflow point's attributes, with the provider's common attributes. */
function overflowBytes(common: Attributes): Uint8Array {
  const attrs = withCommonAttributes(common, OVERFLOW_ATTRIBUTES);
  return attrs === OVERFLOW_ATTRIBUTES ? OVERFLOW_BYTES : encodeKeyValues(POINT_ATTRIBUTES_FIELD.sum, attrs);
}

/** One observed attribute set, as seen by one consumer. */
class ObservedSeries implements Keyed<ObservedSeries> {
  // Observable streams are few and small: a plain per-set array is simpler than a slab.
  bytes: Uint8Array | undefined = undefined;
  next: ObservedSeries | undefined = undefined;
  /** Value observed in the current collection. */
  v = 0;
  /** Value observed in the previous collection (delta sums). */
  prev = 0;
  /** Collection that last observed it. */
  epoch = -1;
  /** Past the limit in the current collection: folded into the overflow point. */
  over = false;

  constructor(
    readonly attrs: Attributes,
    readonly ac: number,
  ) {}
}

/** What one consumer knows of an observable stream. */
class ObservationState {
  readonly table = new AttributeTable<ObservedSeries>();
  /** In first-observed order, for emission. */
  list: ObservedSeries[] = [];
  epoch = 0;
  /** Distinct sets observed in the current collection. */
  count = 0;

  constructor(readonly delta: boolean) {}
}

/** A stream of an observable instrument. */
export class ObservableStream {
  /** By consumer slot; undefined once unregistered. */
  readonly states: (ObservationState | undefined)[] = [];
  /** The overflow point's encoded attributes, made on first overflow. */
  #overflowBytes: Uint8Array | undefined = undefined;
  /** The point written for every series, refilled per point. */
  readonly #point: NumberPoint;

  constructor(
    readonly info: StreamInfo,
    /** Sum aggregation; otherwise Last Value. */
    readonly sum: boolean,
    readonly monotonic: boolean,
    readonly isInt: boolean,
    readonly filter: AttributeFilter,
    readonly limit: number,
  ) {
    this.#point = numberPoint(isInt);
  }

  /** Adds the state of the next consumer slot (`undefined`: the consumer is gone). */
  addConsumer(delta: boolean | undefined): void {
    this.states.push(delta === undefined ? undefined : new ObservationState(delta));
  }

  /** Drops the state of consumer slot `slot`. */
  removeConsumer(slot: number): void {
    this.states[slot] = undefined;
  }

  /** Starts a collection for the consumer at `index`. */
  begin(index: number): void {
    const st = this.states[index];
    if (st === undefined) return;
    st.epoch++;
    st.count = 0;
  }

  /** Records one observation for the consumer at `index`. */
  observe(index: number, value: number, attrs: Attributes | undefined): void {
    const st = this.states[index];
    if (st === undefined) return;
    const a = attrs ?? NO_ATTRIBUTES;
    const h = attributesHash(a, this.filter);
    let s = st.table.find(a, h, this.filter);
    if (s === undefined) {
      const copy = copyAttributes(a, this.filter);
      s = new ObservedSeries(copy.attrs, copy.count);
      st.table.insert(s, h);
      st.list.push(s);
    }
    if (s.epoch !== st.epoch) {
      s.epoch = st.epoch;
      s.v = value;
      s.over = st.count >= this.limit - 1;
      if (s.over) {
        warnOnce(
          `cardinality:${this.info.scopeKey}:${this.info.name}`,
          `metric "${this.info.name}" reached its cardinality limit of ${this.limit}; further attribute sets go to the otel.metric.overflow series`,
        );
      } else {
        st.count++;
      }
    } else if (this.sum) {
      s.v += value;
    } else {
      s.v = value;
    }
  }

  /** Writes what the consumer at `index` observed in its current collection. */
  emit(b: RequestBuilder, index: number, start: bigint, time: bigint): void {
    const st = this.states[index];
    if (st === undefined) return;
    const data = this.sum ? 'sum' : 'gauge';
    b.metric(this.info.name, this.info.description, this.info.unit, data, this.sum ? (st.delta ? 1 : 2) : 0, this.sum && this.monotonic);
    const st0 = st.delta ? start : this.info.created;
    const timesLen = (st0 !== 0n ? 9 : 0) + (time !== 0n ? 9 : 0);
    const field = POINT_ATTRIBUTES_FIELD[data];
    const point = this.#point;
    point.startNs = st0;
    point.timeNs = time;
    let overflow = 0;
    let hasOverflow = false;
    // Sets not observed in this collection are forgotten; the others are kept in order.
    let keep = 0;
    const list = st.list;
    for (let i = 0; i < list.length; i++) {
      const s = list[i] as ObservedSeries;
      if (s.epoch !== st.epoch) {
        st.table.remove(s);
        continue;
      }
      list[keep++] = s;
      let v = s.v;
      if (st.delta && this.sum) {
        const d = v - s.prev;
        s.prev = v;
        if (!(this.monotonic && d < 0)) v = d;
      }
      if (s.over) {
        overflow = this.sum ? overflow + v : v;
        hasOverflow = true;
        continue;
      }
      const bytes = (s.bytes ??= encodeKeyValues(field, withCommonAttributes(this.info.commonAttributes, s.attrs)));
      if (b.reserve(numberPointSize(bytes.length, timesLen))) {
        point.attrs = bytes;
        point.value = v;
        writeNumberDataPoint(b.w, point);
      }
    }
    list.length = keep;
    if (hasOverflow) {
      const bytes = (this.#overflowBytes ??= overflowBytes(this.info.commonAttributes));
      if (b.reserve(numberPointSize(bytes.length, timesLen))) {
        point.attrs = bytes;
        point.value = overflow;
        writeNumberDataPoint(b.w, point);
      }
    }
    point.attrs = NO_ATTRS;
  }
}
