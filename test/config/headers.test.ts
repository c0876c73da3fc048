import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizeHeaders } from '../../src/config/headers.js';
import { resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

const test = suite('config/headers');
const warnings: string[] = [];
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});

test('names are lower-cased and later entries win', () => {
  const got = normalizeHeaders(
    [
      ['Authorization', 'a'],
      ['X-Tenant', 't'],
      ['authorization', 'b'],
    ],
    'H',
  );
  assert.equal(got, { authorization: 'b', 'x-tenant': 't' });
  assert.equal(warnings, []);
});

// [name, value, field in the warning]
const rejected: Array<[string, unknown, string]> = [
  ['bad name', 'v', 'H'],
  ['x:y', 'v', 'H'],
  ['', 'v', 'H'],
  ['content-type', 'text/plain', 'H.content-type'],
  ['Content-Length', '3', 'H.content-length'],
  ['grpc-timeout', '1S', 'H.grpc-timeout'],
  ['host', 'evil', 'H.host'],
  ['x-token', 'line\r\nInjected: 1', 'H.x-token'],
  ['x-token', 42, 'H.x-token'],
  ['x-token', 'euro €', 'H.x-token'],
  ['accept-encoding', 'br', 'H.accept-encoding'],
];
for (const [name, value, field] of rejected) {
  test(`rejects ${JSON.stringify(name)}=${JSON.stringify(value)} with one warning`, () => {
    const got = normalizeHeaders(
      [
        [name, value],
        ['ok', 'yes'],
      ],
      'H',
    );
    assert.equal(got, { ok: 'yes' });
    assert.is(warnings.length, 1);
    assert.ok(warnings[0]!.startsWith(`otlp-fanout: ${field}:`), warnings[0]);
  });
}

test('a rejected value is never printed', () => {
  normalizeHeaders([['authorization', 'Bearer sekrit\n']], 'OTEL_EXPORTER_OTLP_HEADERS');
  assert.is(warnings.length, 1);
  assert.not.match(warnings[0]!, 'sekrit');
  assert.match(warnings[0]!, 'value hidden');
});

test('tab and Latin-1 inside a value are allowed', () => {
  assert.equal(
    normalizeHeaders(
      [
        ['x', 'a\tb'],
        ['y', 'café'],
      ],
      'H',
    ),
    { x: 'a\tb', y: 'café' },
  );
  assert.equal(warnings, []);
});

test.run();
