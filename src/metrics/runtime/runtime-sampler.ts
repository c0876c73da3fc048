/**
 * Reads the process and the runtime at collection time into plain fields: one
 * `sample()` per collection round, no background work besides the event-loop delay
 * histogram that Node.js samples on its own (unref'ed) libuv timer.
 *
 * Interval metrics (CPU utilization, event-loop utilization, event-loop delay) describe
 * the time since the previous sample — for the first sample, since the sampler was
 * created — and the event-loop delay histogram is reset by each sample.
 */
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapSpaceStatistics, type HeapSpaceInfo } from 'node:v8';
import type { ProcReaders } from './procfs.js';

const NS_PER_S = 1e9;

/** One sample of the process and the runtime. Times in seconds, sizes in bytes. */
export class RuntimeSampler {
  /**
   * CPUs the process may run on (libuv's count: the CPU affinity mask on Linux), read
   * once: it only changes if someone re-pins the process.
   */
  readonly cpus: number;
  readonly #delay: IntervalHistogram;
  readonly #proc: ProcReaders;
  #prevCpu: NodeJS.CpuUsage;
  #prevAt: number;
  #prevElu: EventLoopUtilization;

  /** `performance.now()` of the latest sample; -Infinity before the first. */
  sampledAt = Number.NEGATIVE_INFINITY;
  cpuUser = 0;
  cpuSystem = 0;
  /** CPU utilization by mode over the interval; NaN when the interval was empty. */
  utilizationUser = Number.NaN;
  utilizationSystem = Number.NaN;
  rss = 0;
  virtualMemory: number | undefined = undefined;
  openFileDescriptors: number | undefined = undefined;
  uptime = 0;
  heapSpaces: HeapSpaceInfo[] = [];
  /** Event-loop delay samples taken in the interval; the statistics below are meaningless when 0. */
  delayCount = 0;
  delayMin = 0;
  delayMax = 0;
  delayMean = 0;
  delayStddev = 0;
  delayP50 = 0;
  delayP90 = 0;
  delayP99 = 0;
  /** Event-loop utilization over the interval; NaN before the loop ran at all. */
  eventLoopUtilization = Number.NaN;
  eventLoopActive = 0;
  eventLoopIdle = 0;
  /** Active libuv handles and requests by type; cleared and refilled by each sample. */
  readonly activeResources = new Map<string, number>();

  constructor(delayResolutionMillis: number, proc: ProcReaders) {
    this.cpus = Math.max(1, availableParallelism());
    this.#proc = proc;
    this.#delay = monitorEventLoopDelay({ resolution: delayResolutionMillis });
    this.#delay.enable();
    this.#prevCpu = process.cpuUsage();
    this.#prevAt = performance.now();
    this.#prevElu = performance.eventLoopUtilization();
  }

  /** Takes a sample at `now` (a `performance.now()` reading). */
  sample(now: number): void {
    this.sampledAt = now;

    const cpu = process.cpuUsage();
    // cpuUsage is in µs; elapsed is in ms, hence the 1000.
    const capacity = (now - this.#prevAt) * 1000 * this.cpus;
    this.utilizationUser = capacity > 0 ? (cpu.user - this.#prevCpu.user) / capacity : Number.NaN;
    this.utilizationSystem = capacity > 0 ? (cpu.system - this.#prevCpu.system) / capacity : Number.NaN;
    this.cpuUser = cpu.user / 1e6;
    this.cpuSystem = cpu.system / 1e6;
    this.#prevCpu = cpu;
    this.#prevAt = now;

    this.rss = process.memoryUsage.rss();
    this.virtualMemory = this.#proc.virtualMemory?.();
    this.openFileDescriptors = this.#proc.openFileDescriptors?.();
    this.uptime = process.uptime();
    this.heapSpaces = getHeapSpaceStatistics();

    const h = this.#delay;
    this.delayCount = h.count;
    if (h.count > 0) {
      this.delayMin = h.min / NS_PER_S;
      this.delayMax = h.max / NS_PER_S;
      this.delayMean = h.mean / NS_PER_S;
      this.delayStddev = h.stddev / NS_PER_S;
      this.delayP50 = h.percentile(50) / NS_PER_S;
      this.delayP90 = h.percentile(90) / NS_PER_S;
      this.delayP99 = h.percentile(99) / NS_PER_S;
    }
    h.reset();

    const elu = performance.eventLoopUtilization();
    this.eventLoopUtilization = performance.eventLoopUtilization(elu, this.#prevElu).utilization;
    this.eventLoopActive = elu.active / 1000;
    this.eventLoopIdle = elu.idle / 1000;
    this.#prevElu = elu;

    const resources = this.activeResources;
    resources.clear();
    for (const type of process.getActiveResourcesInfo()) resources.set(type, (resources.get(type) ?? 0) + 1);
  }

  /** Stops the event-loop delay histogram. */
  stop(): void {
    this.#delay.disable();
  }
}
