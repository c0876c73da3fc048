/**
 * Attribute edits (`insert`, `update`, `upsert`, `delete`, `hash`): their one definition, applied
 * to the resource (the `resource` processor) and to data points, log records and spans (the
 * `attributes` processor, item-processors.ts), and behind `redact` (`hash` edits of both).
 *
 * Edits apply in order, each to the result of the one before, and each to every attribute with
 * its key (duplicate keys are kept, as received). Attributes no edit changes are returned as they
 * are (the same array), and an entry or item nothing changed is returned as is (the same bytes).
 * The resource processor works on the bytes of one resource entry (otlp/resource-entry.ts): only
 * the resource message is rewritten, the entry's scopes and items are copied as they are, so its
 * cost is per entry, not per item.
 */
import { createHash } from 'node:crypto';
import { anyValueStringForm, buildEntry, encodeAttribute, readEntry } from '../../../otlp/resource-entry.js';
import type { WireAttribute } from '../../../otlp/resource-entry.js';
import type { AttributeEdit } from '../../config/processors.js';
import type { EntryStep } from './chain.js';

/** One edit, compiled once when the pipeline is built. */
export interface CompiledEdit {
  readonly action: AttributeEdit['action'];
  readonly key: Uint8Array;
  /** The attribute that insert/update/upsert write, encoded once here. */
  readonly set: WireAttribute | undefined;
  /** The key as text, for hash results. */
  readonly name: string;
}

const utf8 = new TextEncoder();

/** Compiles a list of edits (several processors' lists, concatenated in order). */
export function compileEdits(edits: readonly AttributeEdit[]): readonly CompiledEdit[] {
  return edits.map((e) => ({
    action: e.action,
    key: utf8.encode(e.key),
    set: 'value' in e ? encodeAttribute(e.key, e.value) : undefined,
    name: e.key,
  }));
}

/** Whether some edit writes an attribute whatever the item holds (insert, upsert): then every item may change. */
export function writesAlways(edits: readonly CompiledEdit[]): boolean {
  return edits.some((e) => e.action === 'insert' || e.action === 'upsert');
}

/** The attributes after every edit; the same array when none changed them. */
export function applyEditsTo(edits: readonly CompiledEdit[], attributes: WireAttribute[]): WireAttribute[] {
  let out = attributes;
  for (const edit of edits) out = applyEdit(edit, out);
  return out;
}

/** The `resource` processor: a list of edits (one or several `resource` processors, concatenated in order). */
export function compileResourceEdits(edits: readonly AttributeEdit[]): EntryStep {
  const compiled = compileEdits(edits);
  return (entry) => {
    const parts = readEntry(entry);
    const attributes = applyEditsTo(compiled, parts.attributes);
    if (attributes === parts.attributes) return entry;
    return buildEntry(
      parts,
      attributes.map((a) => a.field),
    );
  };
}

/** The attributes after `edit`; the same array when it changes nothing. */
function applyEdit(edit: CompiledEdit, attributes: WireAttribute[]): WireAttribute[] {
  let found = false;
  for (const a of attributes) {
    if (a.hasKey(edit.key)) {
      found = true;
      break;
    }
  }
  switch (edit.action) {
    case 'insert':
      return found ? attributes : [...attributes, edit.set!];
    case 'update':
      return found ? attributes.map((a) => (a.hasKey(edit.key) ? edit.set! : a)) : attributes;
    case 'upsert':
      return found ? attributes.map((a) => (a.hasKey(edit.key) ? edit.set! : a)) : [...attributes, edit.set!];
    case 'delete':
      return found ? attributes.filter((a) => !a.hasKey(edit.key)) : attributes;
    case 'hash':
      return found ? attributes.map((a) => (a.hasKey(edit.key) ? hashed(edit.name, a) : a)) : attributes;
  }
}

function hashed(key: string, a: WireAttribute): WireAttribute {
  const digest = createHash('sha256').update(anyValueStringForm(a.value)).digest('hex');
  return encodeAttribute(key, digest);
}
