import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointProblem, targetUrl, type EndpointSetting } from '../../src/config/endpoint.js';
import type { ExportSignal, Protocol } from '../../src/config/options.js';
import { resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

const test = suite('config/endpoint');
const warnings: string[] = [];
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});

const problems: Array<[string, string | undefined]> = [
  ['http://collector:4318', undefined],
  ['https://collector', undefined],
  ['https://collector:4318/custom/path?x=1', undefined],
  ['collector:4317', undefined], // scheme-less, allowed for gRPC by the spec
  ['[::1]:4317', undefined],
  ['http://[::1]:4318', undefined],
  ['ftp://collector', 'the scheme must be http or https'],
  ['unix:///tmp/sock', 'the scheme must be http or https'],
  ['http://user:pw@collector', 'credentials in the URL are not supported (use headers)'],
  ['http://', 'not a URL'],
  ['http://exa mple', 'not a URL'],
];
for (const [value, want] of problems) {
  test(`endpointProblem(${JSON.stringify(value)})`, () => {
    assert.is(endpointProblem(value), want);
  });
}

const base = (value: string): EndpointSetting => ({ value, field: 'F', perSignal: false });
const per = (value: string): EndpointSetting => ({ value, field: 'F', perSignal: true });
// [endpoint, protocol, signal, insecure, url]
const urls: Array<[EndpointSetting | undefined, Protocol, ExportSignal, boolean, string]> = [
  [undefined, 'grpc', 'metrics', false, 'http://localhost:4317'],
  [undefined, 'http/protobuf', 'metrics', false, 'http://localhost:4318/v1/metrics'],
  [undefined, 'http/json', 'logs', false, 'http://localhost:4318/v1/logs'],
  [base('http://c:4318'), 'http/protobuf', 'metrics', false, 'http://c:4318/v1/metrics'],
  [base('http://c:4318/'), 'http/protobuf', 'logs', false, 'http://c:4318/v1/logs'],
  [base('https://c/otlp'), 'http/protobuf', 'metrics', false, 'https://c/otlp/v1/metrics'],
  [base('https://c/otlp//'), 'http/json', 'metrics', false, 'https://c/otlp/v1/metrics'],
  [base('https://c/otlp?tenant=a#frag'), 'http/protobuf', 'metrics', false, 'https://c/otlp/v1/metrics?tenant=a'],
  [per('http://c:4318/custom'), 'http/protobuf', 'metrics', false, 'http://c:4318/custom'],
  [per('http://c:4318'), 'http/protobuf', 'metrics', false, 'http://c:4318/'], // as is: the root path
  [base('c:4318'), 'http/protobuf', 'metrics', false, 'https://c:4318/v1/metrics'],
  [base('c:4317'), 'grpc', 'metrics', false, 'https://c:4317'],
  [base('c:4317'), 'grpc', 'metrics', true, 'http://c:4317'],
  [base('https://c:4317'), 'grpc', 'metrics', true, 'https://c:4317'], // the scheme decides, not insecure
  [base('http://c:4317'), 'grpc', 'logs', false, 'http://c:4317'],
  [per('http://c:4317'), 'grpc', 'logs', false, 'http://c:4317'],
  [base('http://[::1]:4317'), 'grpc', 'logs', false, 'http://[::1]:4317'],
];
for (const [ep, protocol, signal, insecure, want] of urls) {
  test(`targetUrl(${ep ? `${ep.perSignal ? 'signal' : 'base'} ${ep.value}` : 'unset'}, ${protocol}, ${signal}, insecure=${insecure})`, () => {
    assert.is(targetUrl(ep, protocol, signal, insecure), want);
    assert.equal(warnings, []);
  });
}

test('gRPC drops a path, once, naming the field', () => {
  const ep: EndpointSetting = { value: 'http://c:4317/v1/metrics', field: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', perSignal: true };
  assert.is(targetUrl(ep, 'grpc', 'metrics', false), 'http://c:4317');
  assert.is(targetUrl(ep, 'grpc', 'metrics', false), 'http://c:4317');
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  assert.match(warnings[0]!, 'ignoring the path');
});

test.run();
