/**
 * Markdown tables of the export benchmark: per variant and implementation the median and
 * min–max of the per-process figures; ratios ours/official with the range of the
 * per-round ratios (processes that ran next to each other); and the split of each side's
 * cycle into collect/encode and the rest (transport).
 */
import { formatNs, median } from './lib/harness.js';
import type { Impl, Produced, Variant } from './export-sides.js';

/** What one exporting process measured, plus what the receivers counted for it. */
export interface ProcessFigures {
  /** Median CPU time (user + system, all threads) of one export cycle, ns. */
  readonly cpuNs: number;
  /** Median wall time from collect start to both backends' acknowledgement, ns. */
  readonly wallNs: number;
  /** Heap used after the last cycle and a full GC (before shutdown), bytes. */
  readonly heapBytes: number;
  /** Points per backend over the whole run: counted by the receivers, or by a collect-only side itself. */
  readonly points: Produced;
}

/** Figures by variant key, then implementation, one entry per round. */
export type Results = Map<string, Map<Impl, ProcessFigures[]>>;

const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;

function table(head: readonly string[], rows: readonly string[][]): string {
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function ms(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : formatNs(ns);
}

function spread(values: readonly number[], fmt: (v: number) => string): string {
  return `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
}

function ratio(ours: readonly number[], theirs: readonly number[]): string {
  const perRound: number[] = [];
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) perRound.push(ours[i]! / theirs[i]!);
  if (perRound.length === 0) return '–';
  const r = median(ours) / median(theirs);
  return `**${r.toFixed(2)}×** (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`;
}

/** The tables for BENCHMARKS.md. */
export function formatResults(variants: readonly Variant[], results: Results, cycles: number): string {
  const out: string[] = [];
  const rows: string[][] = [];
  for (const v of variants) {
    const byImpl = results.get(v.key);
    if (byImpl === undefined) continue;
    for (const [impl, figures] of byImpl) {
      if (figures.length === 0) continue;
      const p = figures[0]!.points;
      rows.push([
        v.title,
        impl,
        spread(
          figures.map((f) => f.cpuNs),
          ms,
        ),
        impl.includes('collect')
          ? '–'
          : spread(
              figures.map((f) => f.wallNs),
              ms,
            ),
        `${(median(figures.map((f) => f.heapBytes)) / 1e6).toFixed(1)} MB`,
        `${p.grpc.toLocaleString('en-US')} · ${p.http.toLocaleString('en-US')}`,
      ]);
    }
  }
  out.push(
    table(
      [
        'variant',
        'impl',
        'CPU / cycle, median (min–max)',
        'wall / cycle, median (min–max)',
        'heap after',
        `points to gRPC · HTTP over ${cycles} cycles`,
      ],
      rows,
    ),
  );

  const ratioRows: string[][] = [];
  for (const v of variants) {
    const byImpl = results.get(v.key);
    const ours = byImpl?.get('ours');
    const theirs = byImpl?.get('official');
    if (ours === undefined || theirs === undefined) continue;
    const oursCollect = byImpl?.get('ours: collect+encode');
    const theirsCollect = byImpl?.get('official: collect+serialize');
    ratioRows.push([
      v.title,
      ratio(
        ours.map((f) => f.cpuNs),
        theirs.map((f) => f.cpuNs),
      ),
      ratio(
        ours.map((f) => f.wallNs),
        theirs.map((f) => f.wallNs),
      ),
      oursCollect === undefined || theirsCollect === undefined
        ? '–'
        : ratio(
            oursCollect.map((f) => f.cpuNs),
            theirsCollect.map((f) => f.cpuNs),
          ),
    ]);
  }
  if (ratioRows.length > 0) {
    out.push('', 'Ratios ours/official (median of medians; range of the per-round ratios):', '');
    out.push(table(['variant', 'CPU / cycle', 'wall / cycle', 'CPU of collect+encode alone'], ratioRows));
  }

  const splitRows: string[][] = [];
  for (const v of variants) {
    const byImpl = results.get(v.key);
    for (const [whole, part] of [
      ['ours', 'ours: collect+encode'],
      ['official', 'official: collect+serialize'],
    ] as const) {
      const w = byImpl?.get(whole);
      const p = byImpl?.get(part);
      if (w === undefined || p === undefined || w.length === 0 || p.length === 0) continue;
      const total = median(w.map((f) => f.cpuNs));
      const collect = median(p.map((f) => f.cpuNs));
      splitRows.push([
        v.title,
        whole,
        ms(total),
        `${ms(collect)} (${((100 * collect) / total).toFixed(0)}%)`,
        `${ms(Math.max(0, total - collect))} (${((100 * Math.max(0, total - collect)) / total).toFixed(0)}%)`,
      ]);
    }
  }
  if (splitRows.length > 0) {
    out.push('', "Where a cycle's CPU goes (medians; transport = whole cycle − collect-only run):", '');
    out.push(table(['variant', 'side', 'whole cycle', 'collect + encode/serialize', 'transport (queue, client, acks)'], splitRows));
  }
  return out.join('\n');
}
