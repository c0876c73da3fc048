import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { INVALID, limitAnyValue, limitAttributesInto, validateLogRecordLimits, type LimitedAttributes } from '../../src/logs/limits.js';
import { captureWarnings } from './helpers.js';

const validate = suite('logs/limits validateLogRecordLimits');

validate('defaults are 128 and Infinity, frozen', () => {
  const l = validateLogRecordLimits();
  assert.equal({ ...l }, { attributeCountLimit: 128, attributeValueLengthLimit: Infinity });
  assert.ok(Object.isFrozen(l));
});

validate('accepts 0, integers and Infinity', () => {
  assert.equal(
    { ...validateLogRecordLimits({ attributeCountLimit: 0, attributeValueLengthLimit: 5 }) },
    {
      attributeCountLimit: 0,
      attributeValueLengthLimit: 5,
    },
  );
  assert.is(validateLogRecordLimits({ attributeCountLimit: Infinity }).attributeCountLimit, Infinity);
});

validate('bad values warn once naming the field and fall back', () => {
  const w = captureWarnings();
  try {
    const steps: [number, keyof ReturnType<typeof validateLogRecordLimits>, number][] = [
      [-1, 'attributeCountLimit', 128],
      [1.5, 'attributeCountLimit', 128],
      [Number.NaN, 'attributeValueLengthLimit', Infinity],
    ];
    for (const [value, field, fallback] of steps) {
      assert.is(validateLogRecordLimits({ [field]: value })[field], fallback, `${field}=${value}`);
    }
    assert.ok(w.messages.some((m) => m.includes('limits.attributeCountLimit = -1') && m.includes('non-negative integer')));
    assert.ok(w.messages.some((m) => m.includes('attributeValueLengthLimit = NaN')));
    // The same field reports once.
    assert.is(w.messages.filter((m) => m.includes('attributeCountLimit')).length, 1);
  } finally {
    w.restore();
  }
});

validate.run();

const value = suite('logs/limits limitAnyValue');

value('valid values within the limit come back as the same reference', () => {
  const arr = ['a', 1, [true]];
  const map = { a: 'x', b: { c: [1n] } };
  const bytes = new Uint8Array([1, 2]);
  for (const v of ['s', 1, 1.5, true, 5n, null, undefined, arr, map, bytes]) assert.is(limitAnyValue(v, 10), v);
});

value('strings, bytes and strings nested in arrays and maps are cut to the limit', () => {
  assert.is(limitAnyValue('abcdef', 3), 'abc');
  assert.equal(limitAnyValue(new Uint8Array([1, 2, 3, 4]), 2), new Uint8Array([1, 2]));
  const src = { keep: 'ab', cut: 'abcdef', arr: ['xyz12', 7, 'ok'], deep: { list: [{ s: 'hello' }] } };
  const got = limitAnyValue(src, 3);
  assert.equal(got, { keep: 'ab', cut: 'abc', arr: ['xyz', 7, 'ok'], deep: { list: [{ s: 'hel' }] } });
  // The caller's object is untouched.
  assert.is(src.cut, 'abcdef');
  assert.is(src.arr[0], 'xyz12');
  assert.is(limitAnyValue('abc', 0), '');
});

value('truncation never leaves half a surrogate pair', () => {
  assert.is(limitAnyValue('a😀b', 2), 'a');
  assert.is(limitAnyValue('a😀b', 3), 'a😀');
});

value('functions, symbols and class instances are INVALID; inside containers they are nulled or left out', () => {
  const w = captureWarnings();
  try {
    assert.is(
      limitAnyValue(() => 1, 10),
      INVALID,
    );
    assert.is(limitAnyValue(Symbol('x'), 10), INVALID);
    assert.is(limitAnyValue(new Date(0), 10), INVALID);
    assert.is(limitAnyValue(new Map(), 10), INVALID);
    assert.equal(limitAnyValue(['a', () => 1, new Date(0), 'b'], Infinity), ['a', null, null, 'b']);
    assert.equal(limitAnyValue({ a: 1, f: () => 1, m: new Map(), z: 2 }, Infinity), { a: 1, z: 2 });
    assert.ok(w.messages.some((m) => m.includes('type function')));
    assert.ok(w.messages.some((m) => m.includes('type Map')));
    // Null-prototype maps are plain maps.
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 'v';
    assert.is(limitAnyValue(bare, 10), bare);
  } finally {
    w.restore();
  }
});

value('bigints outside int64 keep their digits as a string', () => {
  assert.is(limitAnyValue(2n ** 64n, Infinity), '18446744073709551616');
  assert.is(limitAnyValue(-(2n ** 63n), Infinity), -(2n ** 63n));
  assert.is(limitAnyValue(2n ** 64n, 4), '1844');
});

value('cycles and runaway depth are cut with one warning, never a stack overflow', () => {
  const w = captureWarnings();
  try {
    const cyclic: Record<string, unknown> = { name: 'root' };
    cyclic.self = cyclic;
    assert.equal(limitAnyValue(cyclic, Infinity), { name: 'root' });
    const arr: unknown[] = [1];
    arr.push(arr);
    assert.equal(limitAnyValue(arr, Infinity), [1, null]);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = [deep];
    const got = limitAnyValue(deep, Infinity);
    let depth = 0;
    let cur = got;
    while (Array.isArray(cur) && cur.length > 0 && depth < 200) {
      cur = cur[0];
      depth++;
    }
    assert.ok(depth <= 33, `depth ${depth}`);
    // A DAG that would expand exponentially is bounded too.
    let dag: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 30; i++) dag = { a: dag, b: dag };
    const started = Date.now();
    limitAnyValue(dag, Infinity);
    assert.ok(Date.now() - started < 1000);
    assert.is(w.messages.filter((m) => m.includes('cyclic')).length, 1);
  } finally {
    w.restore();
  }
});

value.run();

const attrs = suite('logs/limits limitAttributesInto');

function limited(input: Record<string, unknown>, countLimit: number, lengthLimit = Infinity): LimitedAttributes {
  const target: LimitedAttributes = { attributes: undefined, droppedAttributesCount: 0 };
  limitAttributesInto(target, input, validateLogRecordLimits({ attributeCountLimit: countLimit, attributeValueLengthLimit: lengthLimit }));
  return target;
}

attrs('keeps the first N keys in order and counts the rest', () => {
  const got = limited({ a: 1, b: 2, c: 3, d: 4 }, 2);
  assert.equal(got.attributes, { a: 1, b: 2 });
  assert.is(got.droppedAttributesCount, 2);
});

attrs('undefined values are skipped, not counted', () => {
  const got = limited({ a: undefined, b: 2, c: undefined }, 1);
  assert.equal(got.attributes, { b: 2 });
  assert.is(got.droppedAttributesCount, 0);
});

attrs('limit 0 drops everything; empty keys and invalid values count as dropped', () => {
  const w = captureWarnings();
  try {
    const none = limited({ a: 1, b: 2 }, 0);
    assert.is(none.attributes, undefined);
    assert.is(none.droppedAttributesCount, 2);
    const bad = limited({ '': 'x', f: () => 1, ok: 'y' }, 10);
    assert.equal(bad.attributes, { ok: 'y' });
    assert.is(bad.droppedAttributesCount, 2);
    assert.ok(w.messages.some((m) => m.includes('empty key')));
  } finally {
    w.restore();
  }
});

attrs('always copies, and applies the length limit to AnyValue attributes', () => {
  const src = { s: 'abcdef', arr: ['abcdef', 1], map: { k: 'abcdef' } };
  const got = limited(src, 128, 2);
  assert.is.not(got.attributes, src);
  assert.equal(got.attributes, { s: 'ab', arr: ['ab', 1], map: { k: 'ab' } });
  const same = limited({ s: 'x' }, 128);
  assert.equal(same.attributes, { s: 'x' });
});

attrs.run();
