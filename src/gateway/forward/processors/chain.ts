/**
 * Processor chains: the processors of a route or an upstream (config/processors.ts),
 * compiled once when a pipeline is built into one function per resource entry.
 *
 * A compiler interns chains by their configuration: equal processor lists give the same
 * chain object with the same `id`, so two upstreams with the same processors share one
 * processed body per request (forward/bodies.ts keys its cache on the id). What reaches an
 * upstream through a route goes through the route's processors, then the upstream's:
 * {@link ChainCompiler.concat}. Processors are fused by level (`compileSteps`), so a chain reads
 * and writes each entry at most twice (resource, items) whatever its length.
 *
 * An upstream's stateful step (its temporality conversion, temporality.ts) is the chain's `tail`:
 * it runs after every processor, route's and upstream's, and a chain with a tail is never shared
 * with another upstream (the tail's key, the upstream's name, is part of the interning key).
 *
 * To add a processor: its config in config/processors.ts, its compiled form beside
 * attribute-edits.ts and item-processors.ts, and a case in `compileSteps` below.
 */
import type { Signal } from '../../../otlp/types.js';
import type { AttributeEdit, ProcessorConfig } from '../../config/processors.js';
import type { ProcessorDropReason, StreamsSnapshot } from '../../observe/events.js';
import { compileResourceEdits } from './attribute-edits.js';
import { compileItemOperations } from './item-processors.js';
import type { ItemOperation } from './item-processors.js';

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

/**
 * The steps of a processor list: every resource-level edit (`resource`, and `redact`'s `hash` of
 * the resource) in one pass over the resource, then every item-level operation (`attributes`,
 * `filter`, and `redact`'s `hash` of the items' attributes) in one walk over the items, each level
 * in configuration order. The two levels touch different attributes and filters read items only,
 * so running all of one before the other gives what running the list in order would; each entry
 * is then read and written at most twice, whatever the list's length.
 */
function compileSteps(processors: readonly ProcessorConfig[]): EntryStep[] {
  const resource: AttributeEdit[] = [];
  const items: ItemOperation[] = [];
  const itemEdits = (edits: readonly AttributeEdit[]): void => {
    // Adjacent edit lists are one operation.
    const last = items.at(-1);
    if (last?.kind === 'edits') items[items.length - 1] = { kind: 'edits', edits: [...last.edits, ...edits] };
    else items.push({ kind: 'edits', edits });
  };
  for (const p of processors) {
    switch (p.kind) {
      case 'resource':
        resource.push(...p.edits);
        break;
      case 'attributes':
        itemEdits(p.edits);
        break;
      case 'redact': {
        const hashes = p.keys.map((key): AttributeEdit => ({ action: 'hash', key }));
        resource.push(...hashes);
        itemEdits(hashes);
        break;
      }
      case 'filter':
        items.push({ kind: 'filter', filter: p });
        break;
    }
  }
  const steps: EntryStep[] = [];
  if (resource.length > 0) steps.push(compileResourceEdits(resource));
  if (items.length > 0) steps.push(compileItemOperations(items));
  return steps;
}
