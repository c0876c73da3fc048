/** The upstream registry: unchanged upstreams are kept across configs, changed ones replaced. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadGatewayConfig } from '../../../src/gateway/config/load.js';
import { createUpstreamRegistry } from '../../../src/gateway/forward/upstream-registry.js';
import { createMemoryTransport } from '../../../src/export/memory.js';

const test = suite('gateway/upstream registry');

const upstreamsOf = (document: unknown) => loadGatewayConfig({ env: {}, document }).upstreams;

test('equal config: the same upstream; changed config: a new one under the name', async () => {
  const registry = createUpstreamRegistry({ transportFor: () => createMemoryTransport() });
  const first = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1' }, b: { endpoint: 'http://127.0.0.1:2' } } });
  // Loaded again from an equal document: equal configs, different objects.
  const same = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1' }, b: { endpoint: 'http://127.0.0.1:2' } } });
  const changed = upstreamsOf({
    upstreams: { a: { endpoint: 'http://127.0.0.1:1' }, b: { endpoint: 'http://127.0.0.1:2', retry: { maxElapsed: '1s' } } },
  });
  await registry.prepare(first);
  const [a1, b1] = first.map((c) => registry.acquire(c));
  const [a2, b2] = same.map((c) => registry.acquire(c));
  assert.ok(a1 === a2 && b1 === b2, 'kept');
  const [a3, b3] = changed.map((c) => registry.acquire(c));
  assert.ok(a3 === a1, 'a unchanged');
  assert.ok(b3 !== b1, 'b rebuilt');
  assert.equal(
    registry.held().map((u) => [u.name, u === a1, u === b3]),
    [
      ['a', true, false],
      ['b', false, true],
    ],
  );
  await Promise.all([...registry.held(), b1!].map((u) => u!.backend.shutdown(0)));
});

test("processors are the pipeline's: changing only them keeps the upstream (and its queue)", async () => {
  const registry = createUpstreamRegistry({ transportFor: () => createMemoryTransport() });
  const [before] = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1' } } });
  const [after] = upstreamsOf({ upstreams: { a: { endpoint: 'http://127.0.0.1:1', processors: [{ resource: [{ action: 'delete', key: 'x' }] }] } } });
  await registry.prepare([before!]);
  const a1 = registry.acquire(before!);
  assert.is(registry.acquire(after!), a1);
  await a1.backend.shutdown(0);
});

test.run();
