import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { constants } from 'node:perf_hooks';
import { gcAttributes, observeGc, GC_TYPE } from '../../../src/metrics/runtime/gc-observer.js';
import type { Attributes } from '../../../src/otlp/types.js';
import { settledHeap } from '../../support/gc.js';
import { sleep } from './helpers.js';

const test = suite('metrics/runtime/gc-observer');

test('V8 GC kinds map to the semantic conventions values; the same object each time', () => {
  const table: Array<[number, string]> = [
    [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
    [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
    [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
  ];
  for (const [kind, value] of table) {
    assert.equal(gcAttributes(kind), { [GC_TYPE]: value });
    assert.is(gcAttributes(kind), gcAttributes(kind), 'cached');
    assert.ok(Object.isFrozen(gcAttributes(kind)));
  }
  assert.equal(gcAttributes(64), { [GC_TYPE]: '64' }, 'an unlisted kind keeps its number (custom value)');
  assert.equal(gcAttributes(undefined), { [GC_TYPE]: 'undefined' });
});

test('records every GC of a forced collection in seconds, and nothing after stop', async () => {
  const seen: Array<{ value: number; attrs: Attributes | undefined }> = [];
  const histogram = {
    record(value: number, attrs?: Attributes) {
      seen.push({ value, attrs });
    },
    bind() {
      throw new Error('not used');
    },
  };
  const stop = observeGc(histogram);
  try {
    settledHeap();
    for (let i = 0; i < 100 && seen.filter((s) => s.attrs?.[GC_TYPE] === 'major').length < 2; i++) await sleep(10);
    const majors = seen.filter((s) => s.attrs?.[GC_TYPE] === 'major');
    assert.ok(majors.length >= 2, `${majors.length} major GCs seen`);
    for (const s of seen) assert.ok(s.value >= 0 && s.value < 5, `a GC of ${s.value} s`);
  } finally {
    stop();
  }
  const n = seen.length;
  settledHeap();
  await sleep(50);
  assert.is(seen.length, n);
});

test.run();
