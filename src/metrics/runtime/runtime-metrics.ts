/**
 * Process and Node.js runtime metrics under the OpenTelemetry semantic conventions
 * (process.*, v8js.*, nodejs.*; names, units and attributes as of semconv 1.45, see
 * docs/runtime-metrics.md for the table and where we differ from the official packages).
 *
 * Everything is read at collection time by one batch callback; the only background work
 * is what the runtime needs to see at all: the event-loop delay histogram (a libuv timer)
 * and the GC `PerformanceObserver`. Neither keeps the process alive, and `stop()` ends both.
 *
 * Collection rounds: `createTelemetry` collects each temporality group at the same moment,
 * through one consumer per group, and every consumer runs the callbacks. Interval metrics
 * (CPU and event-loop utilization, event-loop delay) would then describe the microseconds
 * between two consumers for all but the first. So a sample is shared by the collections
 * that start within `roundMillis` of it: all consumers of one round report the same
 * interval, and the delay histogram is reset once per round.
 */
import { performance } from 'node:perf_hooks';
import { warnOnce } from '../../internal/warn.js';
import type { Attributes } from '../../otlp/types.js';
import { MetricsConfigError } from '../errors.js';
import { ValueType } from '../instrument-descriptor.js';
import type { BatchObservableResult, Observable } from '../instruments.js';
import type { MeterProvider } from '../meter-provider.js';
import { observeGc } from './gc-observer.js';
import { procReaders } from './procfs.js';
import { RuntimeSampler } from './runtime-sampler.js';

/** Options of {@link registerRuntimeMetrics}. */
export interface RuntimeMetricsOptions {
  /**
   * Sampling interval of the event-loop delay histogram, in milliseconds; default 20.
   * The histogram wakes the loop this often, and the reported delays include it (an idle
   * loop reports about this much). 20 ms halves the wake-ups of Node's own default (10)
   * and still catches every block long enough to matter to a service.
   */
  readonly eventLoopDelayResolutionMillis?: number;
  /**
   * Collections that start within this many milliseconds of the latest sample reuse it;
   * default 100. Several consumers collected together (one per temporality in
   * `createTelemetry`) then report the same interval instead of a sliver of it; 100 ms is
   * far above the time between them and far below any export interval. 0: every
   * collection samples anew.
   */
  readonly roundMillis?: number;
}

/** The handle of a registration. */
export interface RuntimeMetrics {
  /**
   * Stops the event-loop delay histogram and the GC observer and removes the callback:
   * observable runtime metrics stop reporting. The GC histogram keeps its totals (an
   * instrument cannot be removed from a provider). Idempotent.
   */
  stop(): void;
}

interface ValidRuntimeMetricsOptions {
  readonly eventLoopDelayResolutionMillis: number;
  readonly roundMillis: number;
}

/** Name of the meter (instrumentation scope) of the runtime metrics. */
export const RUNTIME_METER_NAME = 'otlp-fanout/runtime';
/** Schema URL of the runtime metrics' scope: the semantic conventions version they follow. */
export const RUNTIME_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.45.0';
/** Default of `eventLoopDelayResolutionMillis`. */
export const DEFAULT_EVENT_LOOP_DELAY_RESOLUTION_MILLIS = 20;
/** Default of `roundMillis`. */
export const DEFAULT_ROUND_MILLIS = 100;
/** Bucket boundaries of `v8js.gc.duration`: the semantic conventions' advice. */
export const GC_DURATION_BUCKETS: readonly number[] = Object.freeze([0.01, 0.1, 1, 10]);

/** Validates runtime metrics options into a frozen, fully-populated shape; throws `MetricsConfigError`. */
export function validateRuntimeMetricsOptions(options: RuntimeMetricsOptions = {}): ValidRuntimeMetricsOptions {
  const o = options as { [k: string]: unknown };
  const res = o['eventLoopDelayResolutionMillis'] ?? DEFAULT_EVENT_LOOP_DELAY_RESOLUTION_MILLIS;
  // monitorEventLoopDelay takes whole milliseconds ≥ 1; a second is already too coarse to say anything.
  if (typeof res !== 'number' || !Number.isInteger(res) || res < 1 || res > 1000) {
    throw new MetricsConfigError('eventLoopDelayResolutionMillis', res, 'an integer from 1 to 1000');
  }
  const round = o['roundMillis'] ?? DEFAULT_ROUND_MILLIS;
  if (typeof round !== 'number' || !Number.isFinite(round) || round < 0) {
    throw new MetricsConfigError('roundMillis', round, 'a finite number ≥ 0');
  }
  return Object.freeze({ eventLoopDelayResolutionMillis: res, roundMillis: round });
}

const CPU_USER: Attributes = Object.freeze({ 'cpu.mode': 'user' });
const CPU_SYSTEM: Attributes = Object.freeze({ 'cpu.mode': 'system' });
const LOOP_ACTIVE: Attributes = Object.freeze({ 'nodejs.eventloop.state': 'active' });
const LOOP_IDLE: Attributes = Object.freeze({ 'nodejs.eventloop.state': 'idle' });

/**
 * One frozen attributes object per key value, kept for the life of the registration:
 * heap space names and resource types are small fixed sets in a given Node.js, and the
 * same object each time lets the streams find their series by identity.
 */
class AttributeCache {
  readonly #byValue = new Map<string, Attributes>();
  constructor(readonly key: string) {}

  get(value: string): Attributes {
    let a = this.#byValue.get(value);
    if (a === undefined) {
      a = Object.freeze({ [this.key]: value });
      // Bounded all the same: past this, a fresh object (same series, slower lookup).
      if (this.#byValue.size < 256) this.#byValue.set(value, a);
    }
    return a;
  }
}

interface Registration {
  readonly options: ValidRuntimeMetricsOptions;
  users: number;
  readonly stop: () => void;
}

// One registration per provider: a second batch callback on the same instruments would
// add its observations to the first's (cpu time counted twice).
const registrations = new WeakMap<MeterProvider, Registration>();

/**
 * Records process and Node.js runtime metrics through `provider` (see
 * docs/runtime-metrics.md for the list). Registering again on the same provider shares the
 * first registration (its options apply); it ends when every handle has been stopped.
 * Throws `MetricsConfigError` for invalid options.
 */
export function registerRuntimeMetrics(provider: MeterProvider, options: RuntimeMetricsOptions = {}): RuntimeMetrics {
  const o = validateRuntimeMetricsOptions(options);
  let reg = registrations.get(provider);
  if (reg === undefined) {
    reg = { options: o, users: 0, stop: start(provider, o) };
    registrations.set(provider, reg);
  } else if (reg.options.eventLoopDelayResolutionMillis !== o.eventLoopDelayResolutionMillis || reg.options.roundMillis !== o.roundMillis) {
    warnOnce('runtime-metrics-options', 'runtime metrics are already registered on this provider with other options; the first options apply');
  }
  reg.users++;
  const shared = reg;
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      if (--shared.users > 0) return;
      shared.stop();
      if (registrations.get(provider) === shared) registrations.delete(provider);
    },
  };
}

/** Creates the instruments and starts sampling; returns the function that stops. */
function start(provider: MeterProvider, o: ValidRuntimeMetricsOptions): () => void {
  const meter = provider.getMeter(RUNTIME_METER_NAME, '', { schemaUrl: RUNTIME_SCHEMA_URL });
  const INT = ValueType.INT;
  const proc = procReaders();

  const cpuTime = meter.createObservableCounter('process.cpu.time', { unit: 's', description: 'Total CPU seconds broken down by CPU mode.' });
  const cpuUtilization = meter.createObservableGauge('process.cpu.utilization', {
    unit: '1',
    description:
      'Difference in process.cpu.time since the last collection, divided by the elapsed time and the number of CPUs available to the process.',
  });
  const memoryUsage = meter.createObservableUpDownCounter('process.memory.usage', {
    unit: 'By',
    valueType: INT,
    description: 'The amount of physical memory in use (RSS).',
  });
  const memoryVirtual =
    proc.virtualMemory === undefined
      ? undefined
      : meter.createObservableUpDownCounter('process.memory.virtual', {
          unit: 'By',
          valueType: INT,
          description: 'The amount of committed virtual memory.',
        });
  const fds =
    proc.openFileDescriptors === undefined
      ? undefined
      : meter.createObservableUpDownCounter('process.unix.file_descriptor.count', {
          unit: '{file_descriptor}',
          valueType: INT,
          description: 'Number of unix file descriptors in use by the process.',
        });
  const uptime = meter.createObservableGauge('process.uptime', { unit: 's', description: 'The time the process has been running.' });

  // One declaration per instrument (names and units from the semantic conventions): alike by design.
  const heapUsed = meter.createObservableUpDownCounter('v8js.memory.heap.used', {
    unit: 'By',
    valueType: INT,
    description: 'Heap memory size allocated.',
  });
  const heapSize = meter.createObservableUpDownCounter('v8js.memory.heap.space.size', {
    unit: 'By',
    valueType: INT,
    description: 'Total heap memory size pre-allocated for a heap space.',
  });
  const heapAvailable = meter.createObservableUpDownCounter('v8js.memory.heap.space.available_size', {
    unit: 'By',
    valueType: INT,
    description: 'Heap space available size.',
  });
  const heapPhysical = meter.createObservableUpDownCounter('v8js.memory.heap.space.physical_size', {
    unit: 'By',
    valueType: INT,
    description: 'Committed size of a heap space.',
  });
  const resourcesActive = meter.createObservableGauge('v8js.resource.active', {
    unit: '{resource}',
    valueType: INT,
    description: 'Active resources (libuv handles and requests) keeping the event loop alive, by type.',
  });
  const gcDuration = meter.createHistogram('v8js.gc.duration', {
    unit: 's',
    description: 'Garbage collection duration.',
    advice: { explicitBucketBoundaries: GC_DURATION_BUCKETS },
  });

  const delay = (stat: string): Observable =>
    meter.createObservableGauge(`nodejs.eventloop.delay.${stat}`, {
      unit: 's',
      description: `Event loop ${stat} delay over the collection interval.`,
    });
  const delayMin = delay('min');
  const delayMax = delay('max');
  const delayMean = delay('mean');
  const delayStddev = delay('stddev');
  const delayP50 = delay('p50');
  const delayP90 = delay('p90');
  const delayP99 = delay('p99');
  const loopUtilization = meter.createObservableGauge('nodejs.eventloop.utilization', {
    unit: '1',
    description: 'Event loop utilization over the collection interval.',
  });
  const loopTime = meter.createObservableCounter('nodejs.eventloop.time', {
    unit: 's',
    description: 'Cumulative duration of time the event loop has been in each state.',
  });

  const sampler = new RuntimeSampler(o.eventLoopDelayResolutionMillis, proc);
  const spaceAttrs = new AttributeCache('v8js.heap.space.name');
  const resourceAttrs = new AttributeCache('v8js.resource.type');
  const roundMillis = o.roundMillis;

  const callback = (r: BatchObservableResult): void => {
    const s = sampler;
    const now = performance.now();
    if (!(now - s.sampledAt < roundMillis)) s.sample(now);

    r.observe(cpuTime, s.cpuUser, CPU_USER);
    r.observe(cpuTime, s.cpuSystem, CPU_SYSTEM);
    if (s.utilizationUser === s.utilizationUser) r.observe(cpuUtilization, s.utilizationUser, CPU_USER);
    if (s.utilizationSystem === s.utilizationSystem) r.observe(cpuUtilization, s.utilizationSystem, CPU_SYSTEM);
    r.observe(memoryUsage, s.rss);
    if (memoryVirtual !== undefined && s.virtualMemory !== undefined) r.observe(memoryVirtual, s.virtualMemory);
    if (fds !== undefined && s.openFileDescriptors !== undefined) r.observe(fds, s.openFileDescriptors);
    r.observe(uptime, s.uptime);

    for (const space of s.heapSpaces) {
      const a = spaceAttrs.get(space.space_name);
      r.observe(heapUsed, space.space_used_size, a);
      r.observe(heapSize, space.space_size, a);
      r.observe(heapAvailable, space.space_available_size, a);
      r.observe(heapPhysical, space.physical_space_size, a);
    }
    for (const [type, count] of s.activeResources) r.observe(resourcesActive, count, resourceAttrs.get(type));

    // No sample in the interval (shorter than the resolution, or the loop was blocked
    // throughout): no point, rather than the histogram's empty-state sentinels.
    if (s.delayCount > 0) {
      r.observe(delayMin, s.delayMin);
      r.observe(delayMax, s.delayMax);
      r.observe(delayMean, s.delayMean);
      r.observe(delayStddev, s.delayStddev);
      r.observe(delayP50, s.delayP50);
      r.observe(delayP90, s.delayP90);
      r.observe(delayP99, s.delayP99);
    }
    if (s.eventLoopUtilization === s.eventLoopUtilization) r.observe(loopUtilization, s.eventLoopUtilization);
    r.observe(loopTime, s.eventLoopActive, LOOP_ACTIVE);
    r.observe(loopTime, s.eventLoopIdle, LOOP_IDLE);
  };
  const observables: Observable[] = [
    cpuTime,
    cpuUtilization,
    memoryUsage,
    uptime,
    heapUsed,
    heapSize,
    heapAvailable,
    heapPhysical,
    resourcesActive,
    delayMin,
    delayMax,
    delayMean,
    delayStddev,
    delayP50,
    delayP90,
    delayP99,
    loopUtilization,
    loopTime,
  ];
  if (memoryVirtual !== undefined) observables.push(memoryVirtual);
  if (fds !== undefined) observables.push(fds);
  meter.addBatchObservableCallback(callback, observables);
  const stopGc = observeGc(gcDuration);

  return () => {
    meter.removeBatchObservableCallback(callback, observables);
    stopGc();
    sampler.stop();
  };
}
