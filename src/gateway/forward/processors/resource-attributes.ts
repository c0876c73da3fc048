/**
 * The `resource` processor: resource attribute edits, done on the bytes of one resource
 * entry (otlp/resource-entry.ts). Only the resource message is rewritten; the entry's scopes
 * and items are copied as they are, so the cost is per entry, not per item.
 *
 * Edits apply in order, each to the result of the one before, and each to every attribute
 * with its key (duplicate keys are kept, as received). An entry no edit changes is returned
 * as is (the same bytes, not a copy).
 */
import { createHash } from 'node:crypto';
import { anyValueStringForm, buildEntry, encodeAttribute, readEntry, sameBytes } from '../../../otlp/resource-entry.js';
import type { WireAttribute } from '../../../otlp/resource-entry.js';
import type { ResourceEdit } from '../../config/processors.js';
import type { EntryStep } from './chain.js';

interface CompiledEdit {
  readonly action: ResourceEdit['action'];
  readonly key: Uint8Array;
  /** The attribute that insert/update/upsert write, encoded once here. */
  readonly set: WireAttribute | undefined;
  /** The key as text, for hash results. */
  readonly name: string;
}

const utf8 = new TextEncoder();

/** Compiles a list of edits (one or several `resource` processors, concatenated in order). */
export function compileResourceEdits(edits: readonly ResourceEdit[]): EntryStep {
  const compiled: CompiledEdit[] = edits.map((e) => ({
    action: e.action,
    key: utf8.encode(e.key),
    set: 'value' in e ? encodeAttribute(e.key, e.value) : undefined,
    name: e.key,
  }));
  return (entry) => {
    const parts = readEntry(entry);
    let attributes = parts.attributes;
    let changed = false;
    for (const edit of compiled) {
      const next = applyEdit(edit, attributes);
      if (next !== attributes) {
        attributes = next;
        changed = true;
      }
    }
    if (!changed) return entry;
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
    if (sameBytes(a.key, edit.key)) {
      found = true;
      break;
    }
  }
  switch (edit.action) {
    case 'insert':
      return found ? attributes : [...attributes, edit.set!];
    case 'update':
      return found ? attributes.map((a) => (sameBytes(a.key, edit.key) ? edit.set! : a)) : attributes;
    case 'upsert':
      return found ? attributes.map((a) => (sameBytes(a.key, edit.key) ? edit.set! : a)) : [...attributes, edit.set!];
    case 'delete':
      return found ? attributes.filter((a) => !sameBytes(a.key, edit.key)) : attributes;
    case 'hash':
      return found ? attributes.map((a) => (sameBytes(a.key, edit.key) ? hashed(edit.name, a) : a)) : attributes;
  }
}

function hashed(key: string, a: WireAttribute): WireAttribute {
  const digest = createHash('sha256').update(anyValueStringForm(a.value)).digest('hex');
  return encodeAttribute(key, digest);
}
