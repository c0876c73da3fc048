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
 * To add a processor: its config in config/processors.ts, an `EntryRewrite` compiler beside
 * resource-attributes.ts, and a case in `compileSteps` below.
 */
import type { ProcessorConfig, ResourceEdit } from '../../config/processors.js';
import { compileResourceEdits } from './resource-attributes.js';
import type { EntryRewrite } from './resource-attributes.js';

/** A compiled, non-empty processor chain. */
export interface ProcessorChain {
  /** Unique within its compiler (one pipeline); equal configurations share it. */
  readonly id: number;
  readonly processors: readonly ProcessorConfig[];
  /** The entry (a whole resource entry field, tag included) after every processor; `entry` itself when none changed it. */
  processEntry(entry: Uint8Array): Uint8Array;
}

/** Compiles and interns the chains of one pipeline. */
export interface ChainCompiler {
  /** The chain of `processors`; null when there are none (the data is forwarded as it is). */
  chain(processors: readonly ProcessorConfig[]): ProcessorChain | null;
  /** `first`'s processors, then `then`'s; null when both are null. */
  concat(first: ProcessorChain | null, then: ProcessorChain | null): ProcessorChain | null;
}

export function createChainCompiler(): ChainCompiler {
  const byConfig = new Map<string, ProcessorChain>();
  const chain = (processors: readonly ProcessorConfig[]): ProcessorChain | null => {
    if (processors.length === 0) return null;
    // Build time only: the canonical form of a frozen config is its JSON (keys are written in one order).
    const key = JSON.stringify(processors);
    let c = byConfig.get(key);
    if (c === undefined) {
      const steps = compileSteps(processors);
      const processEntry =
        steps.length === 1
          ? steps[0]!
          : (entry: Uint8Array): Uint8Array => {
              let out = entry;
              for (const step of steps) out = step(out);
              return out;
            };
      c = Object.freeze({ id: byConfig.size + 1, processors, processEntry });
      byConfig.set(key, c);
    }
    return c;
  };
  return {
    chain,
    concat(first, then) {
      if (first === null) return then;
      if (then === null) return first;
      return chain([...first.processors, ...then.processors]);
    },
  };
}

/** One rewrite per run of processors that can share a pass (today: adjacent `resource` lists). */
function compileSteps(processors: readonly ProcessorConfig[]): EntryRewrite[] {
  const steps: EntryRewrite[] = [];
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
