/**
 * Side-by-side benchmark harness.
 *
 * A bench file describes cases; each case has one setup function per implementation
 * ("ours", "official", "prom-client", ...). Run as `node --import tsx/esm bench/x.bench.ts`,
 * the file is the parent: it re-runs itself as a child process for every (round, case,
 * implementation), one child at a time (2 cores here: parallel children would measure
 * each other), interleaving implementations and reversing their order every other round
 * so that drift (thermal, other load) hits all of them alike. A child sets the case up
 * (untimed), warms up, collects garbage, then times the operation and reports the median
 * of its samples. The parent reports, per case and implementation, the median and
 * min–max of the per-process figures, and the ratio ours/theirs, as a markdown table
 * ready for BENCHMARKS.md.
 *
 * ```ts
 * await runBench(import.meta.url, {
 *   title: 'Encode',
 *   cases: [{
 *     name: 'protobuf, 11k points', itemsPerOp: 11_000, itemUnit: 'points',
 *     impls: { ours: async () => () => encode(req), official: async () => () => serialize(rm) },
 *   }],
 * });
 * ```
 * CLI: `--rounds N` (processes per implementation, default 5), `--time MS` timed part of
 * each child (default 2000), `--warmup MS` (default 1000), `--filter TEXT` (cases whose
 * name contains TEXT), `--clock cpu|wall` (default cpu, see below), `--json FILE` (also
 * write raw results).
 *
 * Clock: by default a sample is the process's CPU time (`process.cpuUsage`, user + system,
 * all threads), not wall time: the benchmarks run on a 2-core machine shared with other
 * work, and wall time then counts the time the process waited for a core. For the
 * single-threaded code measured here both agree on an idle machine; GC and JIT threads
 * are charged to the implementation that caused them. The load average is printed with
 * the results.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The timed operation; its result is folded into a sink so it cannot be optimised away. */
export type Op = () => unknown;

/** A case measured by time per operation. */
export interface TimedCase {
  readonly kind?: 'time';
  readonly name: string;
  /** Implementation name → setup run once per child (untimed), returning the operation. */
  readonly impls: { readonly [impl: string]: () => Op | Promise<Op> };
  /**
   * Operations one call of `Op` performs (it loops internally), so that ns-scale operations
   * are not dominated by the harness's call. Default 1.
   */
  readonly opsPerCall?: number;
  /** Items one operation handles (points, records...), to report a throughput. */
  readonly itemsPerOp?: number;
  /** Unit name of `itemsPerOp`, e.g. "points". */
  readonly itemUnit?: string;
}

/**
 * A case whose setup measures something itself (bytes per series...) and returns the
 * figure; lower is better, as for time.
 */
export interface ValueCase {
  readonly kind: 'value';
  readonly name: string;
  readonly unit: string;
  readonly impls: { readonly [impl: string]: () => number | Promise<number> };
}

/** One row group of the table: a timed case or a measured value. */
export type BenchCase = TimedCase | ValueCase;

/** What a bench file passes to `runBench`. */
export interface BenchSpec {
  /** Heading of the printed section. */
  readonly title: string;
  readonly cases: readonly BenchCase[];
  /** The implementation every other one is compared with. Default "ours". */
  readonly ours?: string;
}

/** Per-process figures of one (case, implementation): ns per op, or the case's value. */
export interface ImplResult {
  readonly impl: string;
  readonly perProcess: number[];
}

/** Results of one case, one entry per implementation. */
export interface CaseResult {
  readonly name: string;
  readonly results: ImplResult[];
}

const CHILD_FLAG = '--bench-child';
const RESULT_MARK = 'BENCH_RESULT ';

interface Options {
  rounds: number;
  timeMs: number;
  warmupMs: number;
  filter: string | undefined;
  json: string | undefined;
  clock: 'cpu' | 'wall';
}

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { rounds: 5, timeMs: 2000, warmupMs: 1000, filter: undefined, json: undefined, clock: 'cpu' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (next === undefined) continue;
    if (a === '--rounds') opts.rounds = positive(a, next);
    else if (a === '--time') opts.timeMs = positive(a, next);
    else if (a === '--warmup') opts.warmupMs = Number(next);
    else if (a === '--filter') opts.filter = next;
    else if (a === '--json') opts.json = next;
    else if (a === '--clock') {
      if (next !== 'cpu' && next !== 'wall') throw new RangeError(`--clock: expected cpu or wall, got ${JSON.stringify(next)}`);
      opts.clock = next;
    } else continue;
    i++;
  }
  return opts;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${flag}: expected a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Runs `spec`: as the parent, spawns the children and prints the table; as a child (the
 * same file started by the parent), measures one (case, implementation) and exits.
 * Returns the results in the parent, `undefined` in a child.
 */
export async function runBench(moduleUrl: string, spec: BenchSpec): Promise<CaseResult[] | undefined> {
  const childAt = process.argv.indexOf(CHILD_FLAG);
  if (childAt >= 0) {
    await runChild(spec, process.argv.slice(childAt + 1));
    return undefined;
  }
  const opts = parseArgs(process.argv.slice(2));
  const file = fileURLToPath(moduleUrl);
  const ours = spec.ours ?? 'ours';
  const cases = spec.cases.map((c, index) => ({ c, index })).filter(({ c }) => opts.filter === undefined || c.name.includes(opts.filter));
  const results: CaseResult[] = cases.map(({ c }) => ({
    name: c.name,
    results: Object.keys(c.impls).map((impl) => ({ impl, perProcess: [] })),
  }));
  const total = opts.rounds * cases.reduce((n, { c }) => n + Object.keys(c.impls).length, 0);
  let done = 0;
  const loadBefore = loadavg()[0]!;
  for (let round = 0; round < opts.rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const { c, index } = cases[k]!;
      const implResults = results[k]!.results;
      // Reverse the order every other round: no implementation always runs first.
      const order = round % 2 === 0 ? implResults : [...implResults].reverse();
      for (const r of order) {
        done++;
        process.stderr.write(`[${done}/${total}] ${c.name} — ${r.impl}\n`);
        r.perProcess.push(await spawnChild(file, index, r.impl, opts));
      }
    }
  }
  const table = formatTable(
    cases.map(({ c }) => c),
    results,
    ours,
  );
  process.stdout.write(`\n## ${spec.title}\n\n${table}\n`);
  process.stdout.write(
    `\n${opts.rounds} processes per implementation, run one at a time, interleaved; ` +
      `${opts.warmupMs} ms warm-up and ${opts.timeMs} ms timed per process; ${opts.clock} clock; ` +
      `Node ${process.version}; 1-min load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after.\n`,
  );
  if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify(results, null, 2));
  return results;
}

function spawnChild(file: string, caseIndex: number, impl: string, opts: Options): Promise<number> {
  const args = [
    ...process.execArgv,
    '--expose-gc',
    file,
    CHILD_FLAG,
    String(caseIndex),
    impl,
    String(opts.warmupMs),
    String(opts.timeMs),
    opts.clock,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (code !== 0 || line === undefined) {
        reject(new Error(`benchmark child ${caseIndex}/${impl} exited with ${code}: ${out.slice(-2000)}`));
        return;
      }
      resolve(Number(line.slice(RESULT_MARK.length)));
    });
  });
}

// Results land here so that the timed calls cannot be eliminated as dead code.
let sink = 0;
function consume(v: unknown): void {
  if (typeof v === 'number') sink += v;
  else if (v instanceof Uint8Array) sink += v.length;
  else if (typeof v === 'string') sink += v.length;
  else if (v !== undefined && v !== null) sink++;
}

async function runChild(spec: BenchSpec, args: readonly string[]): Promise<void> {
  const [indexArg, impl, warmupArg, timeArg, clockArg] = args;
  const c = spec.cases[Number(indexArg)];
  if (c === undefined || impl === undefined) throw new Error(`unknown benchmark case ${indexArg}`);
  const setup = c.impls[impl];
  if (setup === undefined) throw new Error(`case "${c.name}" has no implementation "${impl}"`);
  let figure: number;
  if (c.kind === 'value') {
    figure = await (setup as () => number | Promise<number>)();
  } else {
    const op = await (setup as () => Op | Promise<Op>)();
    figure = measure(op, Number(warmupArg), Number(timeArg), clockArg === 'wall' ? wallNs : cpuNs) / (c.opsPerCall ?? 1);
  }
  process.stdout.write(`${RESULT_MARK}${figure}\n`);
  if (sink === 0.5) process.stdout.write('\n'); // keeps `sink` observable
}

/** Nanoseconds on the wall clock. */
function wallNs(): number {
  return Number(process.hrtime.bigint());
}

/** Nanoseconds of CPU time used by this process (all threads). */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Returns the median ns per call of `op` over samples of at least ~2 ms each. */
function measure(op: Op, warmupMs: number, timeMs: number, now: () => number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  const warmEnd = performance.now() + warmupMs;
  let warmCalls = 0;
  const warmStart = now();
  // At least a few calls even with --warmup 0, so setup-time lazy paths are behind us.
  while (warmCalls < 3 || performance.now() < warmEnd) {
    consume(op());
    warmCalls++;
  }
  const perCallNs = (now() - warmStart) / warmCalls;
  // Batch fast operations so one sample is long enough for the timer's resolution.
  const batch = Math.max(1, Math.ceil(2e6 / Math.max(perCallNs, 1)));
  gc?.();
  const samples: number[] = [];
  const end = performance.now() + timeMs;
  // Bounded: at least 5 samples, at most 100k.
  while ((samples.length < 5 || performance.now() < end) && samples.length < 100_000) {
    const t0 = now();
    for (let i = 0; i < batch; i++) consume(op());
    samples.push((now() - t0) / batch);
  }
  return median(samples);
}

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Formats nanoseconds with a unit that keeps 3 significant digits readable. */
export function formatNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
}

function formatRate(perSecond: number, unit: string): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M ${unit}/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k ${unit}/s`;
  return `${perSecond.toFixed(1)} ${unit}/s`;
}

function formatTable(cases: readonly BenchCase[], results: readonly CaseResult[], ours: string): string {
  const others = new Set<string>();
  for (const r of results) for (const i of r.results) if (i.impl !== ours) others.add(i.impl);
  const ratioCols = [...others];
  const head = ['case', 'impl', 'median', 'min–max', 'throughput', ...ratioCols.map((o) => `${ours}/${o}`)];
  const rows: string[][] = [];
  results.forEach((r, k) => {
    const c = cases[k]!;
    const oursResult = r.results.find((i) => i.impl === ours);
    for (const i of r.results) {
      const med = median(i.perProcess);
      const fmt = (v: number) => (c.kind === 'value' ? `${v.toFixed(1)} ${c.unit}` : formatNs(v));
      const min = Math.min(...i.perProcess);
      const max = Math.max(...i.perProcess);
      const throughput = c.kind !== 'value' && c.itemsPerOp !== undefined ? formatRate((c.itemsPerOp * 1e9) / med, c.itemUnit ?? 'items') : '';
      const ratios = ratioCols.map((o) => {
        if (i.impl !== ours || oursResult === undefined) return '';
        const theirs = r.results.find((x) => x.impl === o);
        if (theirs === undefined) return '';
        return formatRatio(oursResult.perProcess, theirs.perProcess);
      });
      rows.push([r.name, i.impl, fmt(med), `${fmt(min)} – ${fmt(max)}`, throughput, ...ratios]);
    }
  });
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Ratio of medians, with the range of the per-round ratios (process i of ours against
 * process i of theirs, which ran next to each other).
 */
function formatRatio(ours: readonly number[], theirs: readonly number[]): string {
  const perRound: number[] = [];
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) perRound.push(ours[i]! / theirs[i]!);
  const r = median(ours) / median(theirs);
  return `${r.toFixed(2)}× (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`;
}
