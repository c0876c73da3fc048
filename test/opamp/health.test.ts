/** Health reports → ComponentHealth, rolled up: a step table of trees and what the top says. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { toBinary } from '@bufbuild/protobuf';
import { ComponentHealthSchema } from '../../gen/opamp/v1/opamp_pb.js';
import { componentHealth } from '../../src/opamp/health.js';
import type { ComponentHealthReport } from '../../src/opamp/health.js';

const test = suite('opamp/health');

const ok = (status = 'serving'): ComponentHealthReport => ({ status });
const bad = (lastError: string): ComponentHealthReport => ({ healthy: false, status: 'failing', lastError });

const steps: ReadonlyArray<{ name: string; report: ComponentHealthReport; healthy: boolean; lastError: string }> = [
  { name: 'empty report: healthy', report: {}, healthy: true, lastError: '' },
  {
    name: 'all parts healthy',
    report: { components: { receivers: { components: { grpc: ok(), http: ok() } }, upstreams: { components: { a: ok() } } } },
    healthy: true,
    lastError: '',
  },
  {
    name: 'an unhealthy upstream makes the top unhealthy and names the path',
    report: {
      status: 'running',
      components: { receivers: { components: { grpc: ok() } }, upstreams: { components: { a: ok(), b: bad('connect ECONNREFUSED') } } },
    },
    healthy: false,
    lastError: 'upstreams: b: connect ECONNREFUSED',
  },
  {
    name: 'the first unhealthy child by name wins',
    report: { components: { z: bad('later'), a: bad('first') } },
    healthy: false,
    lastError: 'a: first',
  },
  {
    name: "own error is kept over a child's",
    report: { healthy: false, lastError: 'own', components: { a: bad('child') } },
    healthy: false,
    lastError: 'own',
  },
  {
    name: "own unhealthy without error takes the child's",
    report: { healthy: false, components: { a: bad('child') } },
    healthy: false,
    lastError: 'a: child',
  },
  { name: 'unhealthy child without error', report: { components: { a: { healthy: false } } }, healthy: false, lastError: 'a: unhealthy' },
];

for (const s of steps) {
  test(s.name, () => {
    const h = componentHealth(s.report);
    assert.is(h.healthy, s.healthy);
    assert.is(h.lastError, s.lastError);
  });
}

test('fields carried over; children in name order, so equal reports encode equally', () => {
  const report: ComponentHealthReport = {
    status: 'running',
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    statusTimeUnixNano: 1_700_000_001_000_000_000n,
    components: { upstreams: { components: { b: ok('b'), a: ok('a') } } },
  };
  const h = componentHealth(report);
  assert.is(h.status, 'running');
  assert.is(h.startTimeUnixNano, 1_700_000_000_000_000_000n);
  assert.is(h.statusTimeUnixNano, 1_700_000_001_000_000_000n);
  assert.equal(Object.keys(h.componentHealthMap['upstreams']!.componentHealthMap), ['a', 'b']);
  const reordered: ComponentHealthReport = { ...report, components: { upstreams: { components: { a: ok('a'), b: ok('b') } } } };
  assert.equal(toBinary(ComponentHealthSchema, componentHealth(reordered)), toBinary(ComponentHealthSchema, h));
});

test.run();
