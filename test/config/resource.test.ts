import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { detectResource } from '../../src/config/resource.js';
import { resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

const test = suite('config/resource');
const warnings: string[] = [];
test.before.each(() => {
  warnings.length = 0;
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});

// `node` unless the binary was renamed (the spec's unknown_service:<executable name>).
const UNKNOWN = `unknown_service:${basename(process.execPath).replace(/\.exe$/i, '')}`;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test('detected attributes', () => {
  const r = detectResource({}, {});
  assert.equal(r, {
    'telemetry.sdk.name': 'otlp-fanout',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': pkg.version,
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'host.name': hostname(),
    'service.name': UNKNOWN,
  });
  assert.ok(Object.isFrozen(r));
  assert.equal(warnings, []);
});

// [title, options, env, service.name]
const names: Array<[string, Parameters<typeof detectResource>[0], Record<string, string>, string]> = [
  ['fallback', {}, {}, UNKNOWN],
  ['resource attributes variable', {}, { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }, 'from-attrs'],
  [
    'OTEL_SERVICE_NAME beats the attributes variable',
    {},
    { OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' },
    'from-env',
  ],
  [
    'code resource beats the environment',
    { resource: { 'service.name': 'from-code-resource' } },
    { OTEL_SERVICE_NAME: 'from-env' },
    'from-code-resource',
  ],
  [
    'code serviceName beats everything',
    { serviceName: 'checkout', resource: { 'service.name': 'other' } },
    { OTEL_SERVICE_NAME: 'from-env', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x' },
    'checkout',
  ],
  ['empty OTEL_SERVICE_NAME is unset', {}, { OTEL_SERVICE_NAME: '', OTEL_RESOURCE_ATTRIBUTES: 'service.name=a' }, 'a'],
  ['percent-decoded', {}, { OTEL_RESOURCE_ATTRIBUTES: 'service.name=my%20svc' }, 'my svc'],
];
for (const [title, options, env, want] of names) {
  test(`service.name: ${title}`, () => {
    assert.is(detectResource(options, env)['service.name'], want);
  });
}

test('attribute precedence: detected < OTEL_RESOURCE_ATTRIBUTES < code', () => {
  const r = detectResource(
    { resource: { 'deployment.environment.name': 'prod', 'host.name': 'code-host', skipped: undefined } },
    { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,host.name=env-host,team=a%2Cb,telemetry.sdk.name=x' },
  );
  assert.is(r['deployment.environment.name'], 'prod');
  assert.is(r['host.name'], 'code-host');
  assert.is(r.team, 'a,b');
  assert.is(r['telemetry.sdk.name'], 'x'); // the user may override even these (spec: user-provided wins)
  assert.ok(!('skipped' in r));
  assert.is(r['process.pid'], process.pid);
});

test('other variables are ignored', () => {
  const r = detectResource({}, { OTEL_METRIC_EXPORT_INTERVAL: 'not a number' });
  assert.equal(warnings, []);
  assert.is(r['service.name'], UNKNOWN);
});

test('bad code values are skipped with a warning naming them', () => {
  const r = detectResource({
    serviceName: '' as string,
    resource: { ok: [1, 2], bad: { nested: true } as unknown as string, '': 'x' },
  });
  assert.equal(r.ok, [1, 2]);
  assert.ok(!('bad' in r));
  assert.ok(!('' in r));
  assert.is(warnings.length, 3, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('resource["bad"]')));
  assert.ok(warnings.some((w) => w.includes('resource[""]')));
  assert.ok(warnings.some((w) => w.includes('serviceName')));
});

test('a resource that is not an object is ignored with a warning', () => {
  const r = detectResource({ resource: 'a=b' as unknown as Record<string, string> }, {});
  assert.is(r['service.name'], UNKNOWN);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, 'resource');
});

test('the caller cannot change what was returned', () => {
  const r = detectResource({ resource: { a: 'b' } }, {}) as Record<string, unknown>;
  assert.throws(() => {
    r.a = 'c';
  });
});

test.run();
