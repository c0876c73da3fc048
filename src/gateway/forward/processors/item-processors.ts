/**
 * The processors that work item by item — `attributes` (edits of data point, log record and span
 * attributes), `filter`, and the item half of `redact` — compiled together into one walk over an
 * entry's items (otlp/items.ts): each item is read once, run through them in configuration order,
 * and kept, dropped (counted by reason) or written again with its new attributes.
 *
 * Filters drop: metrics whose name matches a `*` glob (all their points, `metric_name`); log records
 * with a severity number below the minimum (`log_severity`; a record without one is kept), whose
 * body or a given attribute, in its string form, matches a glob (`log_match`); spans whose name
 * matches a glob (`span_name`). String forms are those of `hash` and of the routes
 * (otlp/resource-entry.ts `anyValueStringForm`).
 *
 * Cost: an item no edit can change is not decoded (a `delete`, `update` or `hash` edit first looks
 * for its key among the item's attribute keys, in place); an entry of a signal nothing here applies
 * to is returned without a walk.
 */
import { BinaryWriter } from '../../../otlp/encode/binary-writer.js';
import { hasAttributeKey, ItemWalker, lenField, logSeverity, withAttributes } from '../../../otlp/items.js';
import { anyValueStringForm, readAttributeFields } from '../../../otlp/resource-entry.js';
import type { WireAttribute } from '../../../otlp/resource-entry.js';
import type { Signal } from '../../../otlp/types.js';
import type { AttributeEdit, FilterConfig } from '../../config/processors.js';
import { globToRegex } from '../../route/attribute-match.js';
import { applyEditsTo, compileEdits, writesAlways } from './attribute-edits.js';
import type { CompiledEdit } from './attribute-edits.js';
import type { EntryStep, ProcessContext } from './chain.js';

/** One item-level operation, in configuration order. */
export type ItemOperation =
  | { readonly kind: 'edits'; readonly edits: readonly AttributeEdit[] }
  | { readonly kind: 'filter'; readonly filter: FilterConfig };

interface CompiledEdits {
  readonly kind: 'edits';
  readonly edits: readonly CompiledEdit[];
  /** insert/upsert: every item may change. */
  readonly always: boolean;
  readonly keys: readonly Uint8Array[];
}

interface CompiledFilter {
  readonly kind: 'filter';
  readonly metricNames: readonly RegExp[];
  readonly minSeverity: number;
  readonly logBodies: readonly RegExp[];
  readonly logAttributes: readonly { readonly key: Uint8Array; readonly regex: RegExp }[];
  readonly spanNames: readonly RegExp[];
}

const utf8 = new TextEncoder();

/** The attributes of the item buf[start, end). (A function, not a closure made per item: closures cost an allocation each.) */
function readAttributes(buf: Uint8Array, start: number, end: number, fieldNo: number): WireAttribute[] {
  const out: WireAttribute[] = [];
  readAttributeFields(buf, fieldNo, out, undefined, start, end);
  return out;
}
const text = new TextDecoder();
const NAME = new Int32Array(2);

/** The step of a run of item-level operations (an empty run is none: the caller leaves it out). */
export function compileItemOperations(operations: readonly ItemOperation[]): EntryStep {
  const ops: (CompiledEdits | CompiledFilter)[] = operations.map((o) => {
    if (o.kind === 'edits') {
      const edits = compileEdits(o.edits);
      return { kind: 'edits', edits, always: writesAlways(edits), keys: edits.map((e) => e.key) };
    }
    const f = o.filter;
    const globs = (patterns: readonly string[]): RegExp[] => patterns.map(globToRegex);
    return {
      kind: 'filter',
      metricNames: globs(f.metricNames),
      minSeverity: f.minSeverity,
      logBodies: globs(f.logBodies),
      logAttributes: f.logAttributes.map((a) => ({ key: utf8.encode(a.key), regex: globToRegex(a.pattern) })),
      spanNames: globs(f.spanNames),
    };
  });
  // Which signals anything here applies to: the others' entries are not walked.
  const applies = (signal: Signal): boolean =>
    ops.some((o) =>
      o.kind === 'edits'
        ? true
        : signal === 'metrics'
          ? o.metricNames.length > 0
          : signal === 'logs'
            ? o.minSeverity > 0 || o.logBodies.length > 0 || o.logAttributes.length > 0
            : o.spanNames.length > 0,
    );
  const wanted = { metrics: applies('metrics'), logs: applies('logs'), traces: applies('traces') };
  // Item by item: edits always; filters of logs and spans (a metrics filter works on whole metrics).
  const perItem = {
    metrics: ops.some((o) => o.kind === 'edits'),
    logs: ops.some((o) => o.kind === 'edits' || o.minSeverity > 0 || o.logBodies.length > 0 || o.logAttributes.length > 0),
    traces: ops.some((o) => o.kind === 'edits' || o.spanNames.length > 0),
  };
  const walker = new ItemWalker();
  const writer = new BinaryWriter();
  let ctx: ProcessContext;

  const visitor = {
    visitsItems: (signal: Signal): boolean => perItem[signal],
    keepMetric(buf: Uint8Array, nameStart: number, nameEnd: number, points: number): boolean {
      let name: string | undefined;
      for (const o of ops) {
        if (o.kind !== 'filter' || o.metricNames.length === 0) continue;
        name ??= text.decode(buf.subarray(nameStart, nameEnd));
        for (const r of o.metricNames) {
          if (r.test(name)) {
            if (points > 0) ctx.drop('metric_name', points);
            return false;
          }
        }
      }
      return true;
    },
    item(buf: Uint8Array, start: number, end: number, attributesField: number, itemField: number): boolean | Uint8Array {
      let attributes: WireAttribute[] | undefined;
      let changed = false;
      for (const o of ops) {
        if (o.kind === 'edits') {
          if (!o.always && attributes === undefined && !hasAttributeKey(buf, start, end, attributesField, o.keys)) continue;
          attributes ??= readAttributes(buf, start, end, attributesField);
          const next = applyEditsTo(o.edits, attributes);
          if (next !== attributes) {
            attributes = next;
            changed = true;
          }
          continue;
        }
        if (ctx.signal === 'logs') {
          if (o.minSeverity > 0) {
            const severity = logSeverity(buf, start, end);
            if (severity > 0 && severity < o.minSeverity) return dropped('log_severity');
          }
          if (o.logBodies.length > 0) {
            lenField(buf, start, end, 5, NAME);
            if (NAME[0]! >= 0) {
              const body = text.decode(anyValueStringForm(buf.subarray(NAME[0], NAME[1])));
              for (const r of o.logBodies) if (r.test(body)) return dropped('log_match');
            }
          }
          if (o.logAttributes.length > 0) {
            attributes ??= readAttributes(buf, start, end, attributesField);
            for (const cond of o.logAttributes) {
              for (const a of attributes) {
                if (a.hasKey(cond.key) && cond.regex.test(text.decode(anyValueStringForm(a.value)))) return dropped('log_match');
              }
            }
          }
        } else if (ctx.signal === 'traces' && o.spanNames.length > 0) {
          lenField(buf, start, end, 5, NAME);
          const name = NAME[0]! >= 0 ? text.decode(buf.subarray(NAME[0], NAME[1])) : '';
          for (const r of o.spanNames) if (r.test(name)) return dropped('span_name');
        }
      }
      return changed ? withAttributes(buf, start, end, attributesField, attributes!, writer, itemField) : true;
    },
  };
  const dropped = (reason: 'log_severity' | 'log_match' | 'span_name'): false => {
    ctx.drop(reason, 1);
    return false;
  };
  return (entry, c) => {
    if (!wanted[c.signal]) return entry;
    ctx = c;
    // Rewritten items are views of `writer` until the walk has applied them: emptied per entry.
    writer.pos = 0;
    return walker.walk(entry, c.signal, visitor);
  };
}
