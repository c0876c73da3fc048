/** The upstream registry: unchanged upstreams are kept across configs, changed ones replaced. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { createUpstreamRegistry } from '../../../src/gateway/forward/upstream-registry.js';
import { createMemoryTransport } from '../../../src/export/memory.js';

const test = suite('gateway/upstream registry');

const upstreamsOf = (document: unknown) => loadGatewayConfig({ env: {}, document }).upstreams;

test('equal config: the same upstream; changed config: a new one under the name, held from the commit on', async () => {
  const registry = createUpstreamRegistry({ transportFor: () => createMemoryTransport() });
  const first = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1' }, b: { endpoint: 'http://127.0.0.1:2' } } });
  // Loaded again from an equal document: equal configs, different objects.
  const same = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1' }, b: { endpoint: 'http://127.0.0.1:2' } } });
  const changed = upstreamsOf({
    upstreams: { a: { endpoint: 'http://127.0.0.1:1' }, b: { endpoint: 'http://127.0.0.1:2', retry: { maxElapsed: '1s' } } },
  });
  await registry.prepare(first);
  const [a1, b1] = first.map((c) => registry.acquire(c));
  assert.ok(registry.acquire(same[0]!) === a1, 'a staged upstream is shared by pipelines built before the commit');
  assert.equal(registry.commit([a1!, b1!]), { replaced: [], removed: [] });
  const [a2, b2] = same.map((c) => registry.acquire(c));
  assert.ok(a1 === a2 && b1 === b2, 'kept');
  const [a3, b3] = changed.map((c) => registry.acquire(c));
  assert.ok(a3 === a1, 'a unchanged');
  assert.ok(b3 !== b1, 'b rebuilt');
  const change = registry.commit([a3!, b3!]);
  assert.ok(change.replaced.length === 1 && change.replaced[0]!.previous === b1 && change.replaced[0]!.next === b3);
  assert.equal(change.removed, []);
  assert.equal(
    registry.held().map((u) => [u.name, u === a1, u === b3, u === b1]),
    [
      ['a', true, false, false],
      ['b', false, true, false],
      ['b', false, false, true],
    ],
    'the replaced one is retiring, listed last',
  );
  registry.forget(b1!);
  assert.equal(registry.held().length, 2);
  await Promise.all([...registry.held(), b1!].map((u) => u!.backend.shutdown(0)));
});

test('commit: held upstreams not in use are removed (retiring until forgotten); discard shuts the staged ones down', async () => {
  const registry = createUpstreamRegistry({ transportFor: () => createMemoryTransport() });
  const [a, b] = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1' }, b: { endpoint: 'http://127.0.0.1:2' } } });
  await registry.prepare([a!, b!]);
  const ua = registry.acquire(a!);
  const ub = registry.acquire(b!);
  registry.commit([ua, ub]);
  const change = registry.commit([ua]);
  assert.ok(change.removed.length === 1 && change.removed[0] === ub);
  assert.equal(
    registry.held().map((u) => u.name),
    ['a', 'b'],
  );
  registry.forget(ub);
  assert.equal(
    registry.held().map((u) => u.name),
    ['a'],
  );
  // A reload that is not applied: what it staged is shut down and forgotten; the held set is as it was.
  const [c] = upstreamsOf({ upstreams: { c: { endpoint: 'http://127.0.0.1:3' } } });
  const uc = registry.acquire(c!);
  assert.equal(
    registry.held().map((u) => u.name),
    ['a', 'c'],
  );
  registry.discard();
  assert.equal(
    registry.held().map((u) => u.name),
    ['a'],
  );
  assert.is(uc.backend.enqueue('metrics', new Uint8Array(1), 1), false, 'shut down');
  await Promise.all([ua, ub].map((u) => u.backend.shutdown(0)));
});

test("processors are the pipeline's: changing only them keeps the upstream (and its queue)", async () => {
  const registry = createUpstreamRegistry({ transportFor: () => createMemoryTransport() });
  const [before] = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1' } } });
  const [after] = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1', processors: [{ resource: [{ action: 'delete', key: 'x' }] }] } } });
  await registry.prepare([before!]);
  const a1 = registry.acquire(before!);
  registry.commit([a1]);
  assert.is(registry.acquire(after!), a1);
  await a1.backend.shutdown(0);
});

test.run();
