import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isValidInstrumentName, isValidInstrumentUnit } from '../../src/metrics/instrument-descriptor.js';

const test = suite('metrics/instrument-descriptor');

test('names follow the API spec syntax', () => {
  for (const ok of ['a', 'A1', 'http.server.duration', 'a_b-c/d.e', 'x'.repeat(255)]) assert.ok(isValidInstrumentName(ok), ok);
  for (const bad of ['', '1a', '_a', '.a', 'a b', 'a!', 'é', 'x'.repeat(256), 'a\n']) assert.not.ok(isValidInstrumentName(bad), bad);
  assert.not.ok(isValidInstrumentName(undefined));
  assert.not.ok(isValidInstrumentName(42));
});

test('units are ASCII up to 63 characters', () => {
  for (const ok of ['', 'ms', '{request}', 'By/s', 'u'.repeat(63)]) assert.ok(isValidInstrumentUnit(ok), ok);
  for (const bad of ['u'.repeat(64), 'µs', 7]) assert.not.ok(isValidInstrumentUnit(bad), String(bad));
});

test.run();
