import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseKeyValueList } from '../../src/config/key-value-list.js';
import { prng } from '../support/prng.js';

const test = suite('config/key-value-list');

// [input, entries, problems]
const steps: Array<[string, Array<[string, string]>, string[]]> = [
  [
    'a=1,b=2',
    [
      ['a', '1'],
      ['b', '2'],
    ],
    [],
  ],
  [
    '  a = 1 ,\tb=2  ',
    [
      ['a', '1'],
      ['b', '2'],
    ],
    [],
  ],
  ['a=hello%20world', [['a', 'hello world']], []],
  ['a=1%2C2%3D3', [['a', '1,2=3']], []],
  ['k%20x=v', [['k x', 'v']], []],
  ['a=x+y', [['a', 'x+y']], []], // baggage: plus is a plus
  ['a=b64==', [['a', 'b64==']], []], // first "=" splits
  ['a=', [['a', '']], []],
  [
    'a=1,,b=2,',
    [
      ['a', '1'],
      ['b', '2'],
    ],
    [],
  ],
  ['a=%E2%82%AC', [['a', '€']], []],
  [
    'a=1,broken,b=2',
    [
      ['a', '1'],
      ['b', '2'],
    ],
    ['entry 2 has no "="'],
  ],
  ['=v,a=1', [['a', '1']], ['entry 1 has an empty key']],
  ['a=%zz,b=%E2%82', [], ['entry 1 has an invalid percent-encoding', 'entry 2 has an invalid percent-encoding']],
  [
    'a=1,a=2',
    [
      ['a', '1'],
      ['a', '2'],
    ],
    [],
  ], // order kept; callers let the later one win
  ['', [], []],
];

for (const [input, entries, problems] of steps) {
  test(`parses ${JSON.stringify(input)}`, () => {
    const got = parseKeyValueList(input);
    assert.equal(
      got.entries.map(([k, v]) => [k, v]),
      entries,
    );
    assert.equal([...got.problems], problems);
  });
}

test('problems never quote the value (headers carry secrets)', () => {
  const got = parseKeyValueList('authorization=Bearer%zzsecret');
  assert.is(got.problems.length, 1);
  assert.not.match(got.problems[0]!, 'secret');
});

test('property: encodeURIComponent round-trips through the parser (seeded)', () => {
  const rand = prng(0xc0ffee);
  const alphabet = 'abcXYZ019 ,=%+;:/é€\t"\'';
  const word = (min: number): string => {
    let s = '';
    const n = min + Math.floor(rand() * 8);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    return s;
  };
  for (let round = 0; round < 300; round++) {
    const pairs: Array<[string, string]> = [];
    const count = 1 + Math.floor(rand() * 5);
    for (let i = 0; i < count; i++) {
      // Keys and values are trimmed by the format, so generate them without outer whitespace.
      pairs.push([word(1).trim() || 'k', word(0).trim()]);
    }
    const text = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join(' , ');
    const got = parseKeyValueList(text);
    assert.equal(got.problems, [], text);
    assert.equal(
      got.entries.map(([k, v]) => [k, v]),
      pairs,
      text,
    );
  }
});

test.run();
