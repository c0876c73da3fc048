import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AttributeTable,
  attributeFilter,
  attributesHash,
  attributesText,
  copyAttributes,
  KEEP_ALL,
  matchesAttributes,
  sameAttributes,
  sameExcluded,
  sameIncluded,
  type Keyed,
} from '../../src/metrics/attribute-key.js';
import type { Attributes } from '../../src/otlp/types.js';
import { captureWarnings, prng } from './helpers.js';

const hash = suite('metrics/attribute-key: hash and match');

hash('hash ignores key order and undefined values', () => {
  const a = attributesHash({ a: 'x', b: 1, c: true, d: [1, 2] }, KEEP_ALL);
  assert.is(attributesHash({ d: [1, 2], c: true, b: 1, a: 'x' }, KEEP_ALL), a);
  assert.is(attributesHash({ c: true, z: undefined, a: 'x', d: [1, 2], b: 1 }, KEEP_ALL), a);
});

hash('hash tells types and swapped values apart', () => {
  const seen = new Set<number>();
  for (const attrs of [{ a: '1' }, { a: 1 }, { a: true }, { a: 'true' }, { a: [1] }, { a: ['1'] }, { a: 'x', b: 'y' }, { a: 'y', b: 'x' }, {}]) {
    seen.add(attributesHash(attrs as Attributes, KEEP_ALL));
  }
  assert.is(seen.size, 9);
});

hash('-0 and 0 are one value; NaN matches NaN', () => {
  assert.is(attributesHash({ a: -0 }, KEEP_ALL), attributesHash({ a: 0 }, KEEP_ALL));
  assert.ok(matchesAttributes({ a: -0 }, { a: 0 }, 1, KEEP_ALL));
  assert.ok(matchesAttributes({ a: NaN }, { a: NaN }, 1, KEEP_ALL));
  assert.not.ok(sameAttributes({ a: NaN }, { a: NaN }, 1), 'the hot guard is stricter; the slow path confirms');
});

hash('invalid values are skipped by hash, match and copy alike, with one warning', async () => {
  const { warnings } = await captureWarnings(() => {
    const bad = { a: 'x', o: { nested: 1 } as unknown as string, n: null as unknown as string };
    assert.is(attributesHash(bad, KEEP_ALL), attributesHash({ a: 'x' }, KEEP_ALL));
    assert.ok(matchesAttributes(bad, { a: 'x' }, 1, KEEP_ALL));
    assert.equal(copyAttributes(bad, KEEP_ALL), { attrs: { a: 'x' }, count: 1 });
    attributesHash(bad, KEEP_ALL);
  });
  assert.is(warnings.length, 2, 'one per bad key, once');
});

hash('filters keep the allowed keys only', () => {
  const inc = attributeFilter({ include: ['b', 'a'] });
  const exc = attributeFilter({ exclude: ['c'] });
  const attrs = { a: 1, b: 2, c: 3 };
  assert.is(attributesHash(attrs, inc), attributesHash({ a: 1, b: 2 }, KEEP_ALL));
  assert.is(attributesHash(attrs, exc), attributesHash({ a: 1, b: 2 }, KEEP_ALL));
  assert.ok(matchesAttributes(attrs, { a: 1, b: 2 }, 2, inc));
  assert.ok(matchesAttributes(attrs, { a: 1, b: 2 }, 2, exc));
  assert.not.ok(matchesAttributes({ a: 1, b: 3, c: 3 }, { a: 1, b: 2 }, 2, inc));
  assert.equal(copyAttributes(attrs, inc).attrs, { a: 1, b: 2 });
  assert.ok(sameIncluded(attrs, { a: 1, b: 2 }, ['a', 'b']));
  assert.ok(sameExcluded(attrs, { a: 1, b: 2 }, 2, new Set(['c'])));
  assert.not.ok(sameExcluded({ ...attrs, d: 4 }, { a: 1, b: 2 }, 2, new Set(['c'])));
  assert.is(attributeFilter({ exclude: [] }), KEEP_ALL);
});

hash('copy is sorted, arrays copied and frozen', () => {
  const arr = ['x', 'y'];
  const { attrs, count } = copyAttributes({ z: 1, a: arr, m: undefined }, KEEP_ALL);
  assert.equal(Object.keys(attrs), ['a', 'z']);
  assert.is(count, 2);
  assert.is.not(attrs['a'], arr);
  assert.ok(Object.isFrozen(attrs['a']));
  arr.push('z');
  assert.equal(attrs['a'], ['x', 'y']);
});

hash('guard sees added, removed and changed keys and mutated arrays', () => {
  const stored = copyAttributes({ a: 'x', b: [1, 2] }, KEEP_ALL);
  const obj: { [k: string]: unknown } = { a: 'x', b: [1, 2] };
  assert.ok(sameAttributes(obj as Attributes, stored.attrs, stored.count));
  obj['c'] = 1;
  assert.not.ok(sameAttributes(obj as Attributes, stored.attrs, stored.count));
  delete obj['c'];
  (obj['b'] as number[]).push(3);
  assert.not.ok(sameAttributes(obj as Attributes, stored.attrs, stored.count));
  obj['b'] = [1, 2];
  obj['a'] = 'y';
  assert.not.ok(sameAttributes(obj as Attributes, stored.attrs, stored.count));
  obj['a'] = undefined;
  assert.not.ok(sameAttributes(obj as Attributes, stored.attrs, stored.count));
});

hash('attributesText is order-independent', () => {
  assert.is(attributesText({ b: 1, a: 'x' }), attributesText({ a: 'x', b: 1 }));
  assert.is.not(attributesText({ a: 1 }), attributesText({ a: '1' }));
});

hash.run();

const table = suite('metrics/attribute-key: AttributeTable');

class Entry implements Keyed<Entry> {
  next: Entry | undefined = undefined;
  constructor(
    readonly attrs: Attributes,
    readonly ac: number,
  ) {}
}

table('finds, grows and removes', () => {
  const t = new AttributeTable<Entry>();
  const entries: Entry[] = [];
  for (let i = 0; i < 300; i++) {
    const attrs = { i, s: `v${i}` };
    const e = new Entry(attrs, 2);
    t.insert(e, attributesHash(attrs, KEEP_ALL));
    entries.push(e);
  }
  assert.is(t.size, 300);
  for (let i = 0; i < 300; i++) {
    const attrs = { s: `v${i}`, i };
    assert.is(t.find(attrs, attributesHash(attrs, KEEP_ALL), KEEP_ALL), entries[i]);
  }
  for (let i = 0; i < 300; i += 2) t.remove(entries[i] as Entry);
  assert.is(t.size, 150);
  for (let i = 0; i < 300; i++) {
    const attrs = { i, s: `v${i}` };
    const found = t.find(attrs, attributesHash(attrs, KEEP_ALL), KEEP_ALL);
    assert.is(found, i % 2 === 0 ? undefined : entries[i]);
  }
});

table('sets whose hashes collide are told apart, across growth too', () => {
  // The key enters the hash by length and end characters only: these all hash alike.
  const colliding = Array.from({ length: 10 }, (_, i) => ({ [`a${i}b`]: 1 }));
  assert.is(new Set(colliding.map((a) => attributesHash(a, KEEP_ALL))).size, 1);
  const t = new AttributeTable<Entry>();
  const entries = colliding.map((a) => new Entry(a, 1));
  entries.forEach((e, i) => t.insert(e, attributesHash(colliding[i] as Attributes, KEEP_ALL)));
  for (let i = 0; i < 100; i++) t.insert(new Entry({ n: i }, 1), attributesHash({ n: i }, KEEP_ALL));
  colliding.forEach((a, i) => assert.is(t.find({ ...a }, attributesHash(a, KEEP_ALL), KEEP_ALL), entries[i]));
  t.remove(entries[3] as Entry);
  assert.is(t.find({ a3b: 1 }, attributesHash({ a3b: 1 }, KEEP_ALL), KEEP_ALL), undefined);
  assert.is(t.find({ a4b: 1 }, attributesHash({ a4b: 1 }, KEEP_ALL), KEEP_ALL), entries[4]);
});

table('random attribute sets: equal sets hash equal, the table tells all apart', () => {
  const rnd = prng(7);
  const t = new AttributeTable<Entry>();
  const byText = new Map<string, Entry>();
  for (let n = 0; n < 2000; n++) {
    const keys = ['a', 'b', 'c', 'd'].filter(() => rnd() < 0.6);
    const attrs: { [k: string]: string | number | boolean } = {};
    for (const k of keys) {
      const r = rnd();
      attrs[k] = r < 0.4 ? `s${Math.floor(rnd() * 5)}` : r < 0.8 ? Math.floor(rnd() * 5) : rnd() < 0.5;
    }
    // Insert in a random key order.
    const shuffled: { [k: string]: string | number | boolean } = {};
    for (const k of [...keys].sort(() => rnd() - 0.5)) shuffled[k] = attrs[k] as string | number | boolean;
    const text = attributesText(attrs);
    const h = attributesHash(shuffled, KEEP_ALL);
    assert.is(h, attributesHash(attrs, KEEP_ALL));
    const found = t.find(shuffled, h, KEEP_ALL);
    assert.is(found, byText.get(text));
    if (found === undefined) {
      const e = new Entry(copyAttributes(attrs, KEEP_ALL).attrs, keys.length);
      t.insert(e, h);
      byText.set(text, e);
    }
  }
  assert.is(t.size, byText.size);
});

table.run();
