/**
 * Processor chains: the processors of a route or an upstream (config/processors.ts),
 * compiled once when a pipeline is built into one function per resource entry.
 *
 * A compiler interns chains by their configuration: equal processor lists give the same
 * chain object with the same `id`, so two upstreams with the same processors share one
 * processed body per request (forward/bodies.ts keys its cache on the id). What reaches an
 * upstream through a route goes through the route's processors, then the upstream's:
 * {@link ChainCompiler.concat}. Adjacent `resource` processors are fused into one pass over
 * the resource, so a chain reads and writes each entry once whatever its length.
 *
 * An upstream's stateful step (its temporality conversion, temporality.ts) is the chain's `tail`:
 * it runs after every processor, route's and upstream's, and a chain with a tail is never shared
 * with another upstream (the tail's key, the upstream's name, is part of the interning key).
 *
 * To add a processor: its config in config/processors.ts, an `EntryStep` compiler beside
 * resource-attributes.ts, and a case in `compileSteps` below.
 */
import type { Signal } from '../../../otlp/types.js';
import type { ProcessorConfig, ResourceEdit } from '../../config/processors.js';
import type { ProcessorDropReason, StreamsSnapshot } from '../../observe/events.js';
import { compileResourceEdits } from './resource-attributes.js';

/** What a processor is told about the body it works on, and where it counts what it dropped. One per processed body. */
export class ProcessContext {
  /** Items dropped by reason; undefined until one is. */
  dropped: Map<ProcessorDropReason, number> | undefined = undefined;
  /** Items dropped, all reasons. */
  droppedItems = 0;

  constructor(readonly signal: Signal) {}

  /** Counts `items` dropped for `reason`. */
  drop(reason: ProcessorDropReason, items: number): void {
    this.dropped ??= new Map();
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + items);
    this.droppedItems += items;
  }
}

/**
 * Rewrites one resource entry (the whole field, tag included); returns `entry` itself when nothing
 * changed, an empty array when nothing of it is left.
 */
export type EntryStep = (entry: Uint8Array, ctx: ProcessContext) => Uint8Array;

/** A stateful step that ends an upstream's chains; `key` names its owner (and state). */
export interface ChainTail {
  readonly key: string;
  readonly step: EntryStep;
  /** The state's figures now, for the observer. */
  readonly streams?: () => StreamsSnapshot;
}

/** A compiled, non-empty processor chain. */
export interface ProcessorChain {
  /** Unique within its compiler (one pipeline); equal configurations share it. */
  readonly id: number;
  readonly processors: readonly ProcessorConfig[];
  readonly tail: ChainTail | undefined;
  /** The entry after every processor; `entry` itself when none changed it, empty when none of it is left. */
  processEntry(entry: Uint8Array, ctx: ProcessContext): Uint8Array;
}

/** Compiles and interns the chains of one pipeline. */
export interface ChainCompiler {
  /** The chain of `processors`, then `tail`; null when there are neither (the data is forwarded as it is). */
  chain(processors: readonly ProcessorConfig[], tail?: ChainTail): ProcessorChain | null;
  /** `first`'s processors, then `then`'s (and `then`'s tail); null when both are null. */
  concat(first: ProcessorChain | null, then: ProcessorChain | null): ProcessorChain | null;
}

export function createChainCompiler(): ChainCompiler {
  const byConfig = new Map<string, ProcessorChain>();
  const chain = (processors: readonly ProcessorConfig[], tail?: ChainTail): ProcessorChain | null => {
    if (processors.length === 0 && tail === undefined) return null;
    // Build time only: the canonical form of a frozen config is its JSON (keys are written in one order).
    const key = tail === undefined ? JSON.stringify(processors) : `${JSON.stringify(processors)}|${tail.key}`;
    let c = byConfig.get(key);
    if (c === undefined) {
      const steps = compileSteps(processors);
      if (tail !== undefined) steps.push(tail.step);
      const processEntry =
        steps.length === 1
          ? steps[0]!
          : (entry: Uint8Array, ctx: ProcessContext): Uint8Array => {
              let out = entry;
              for (const step of steps) {
                out = step(out, ctx);
                if (out.length === 0) break;
              }
              return out;
            };
      c = Object.freeze({ id: byConfig.size + 1, processors, tail, processEntry });
      byConfig.set(key, c);
    }
    return c;
  };
  return {
    chain,
    concat(first, then) {
      if (first === null) return then;
      if (then === null) return first;
      return chain([...first.processors, ...then.processors], then.tail);
    },
  };
}

/** One step per run of processors that can share a pass (today: adjacent `resource` lists). */
function compileSteps(processors: readonly ProcessorConfig[]): EntryStep[] {
  const steps: EntryStep[] = [];
  let edits: ResourceEdit[] = [];
  const flush = (): void => {
    if (edits.length > 0) steps.push(compileResourceEdits(edits));
    edits = [];
  };
  for (const p of processors) {
    switch (p.kind) {
      case 'resource':
        edits.push(...p.edits);
        break;
      // A kind that rewrites more than the resource: flush(), then steps.push(its rewrite).
    }
  }
  flush();
  return steps;
}
