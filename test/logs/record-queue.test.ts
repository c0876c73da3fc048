import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordQueue } from '../../src/logs/record-queue.js';

const test = suite('logs/record-queue');

test('refuses when full and keeps FIFO order across wrap-around', () => {
  const q = new RecordQueue<number>(3);
  assert.ok(q.push(1));
  assert.ok(q.push(2));
  assert.ok(q.push(3));
  assert.not.ok(q.push(4));
  assert.is(q.length, 3);
  assert.equal(q.take(2), [1, 2]);
  assert.ok(q.push(5));
  assert.ok(q.push(6));
  assert.not.ok(q.push(7));
  assert.equal(q.take(10), [3, 5, 6]);
  assert.is(q.length, 0);
  assert.equal(q.take(1), []);
});

test('model check against an array with a seeded sequence of operations', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const q = new RecordQueue<number>(7);
  const model: number[] = [];
  let next = 0;
  for (let i = 0; i < 5000; i++) {
    if (rnd() < 0.6) {
      const ok = q.push(next);
      assert.is(ok, model.length < 7);
      if (ok) model.push(next);
      next++;
    } else {
      const n = Math.floor(rnd() * 5);
      assert.equal(q.take(n), model.splice(0, n));
    }
    assert.is(q.length, model.length);
  }
});

test.run();
