/**
 * Cost of the gateway observer on the request path: `onRequest` + `onForwarded` for one
 * accepted request of 100 points, one service, forwarded to 2 upstreams, at each verbosity
 * (detailed decodes and formats the request; its output goes to a discarding writer), and
 * a no-op observer as the floor. Run: `node --import tsx/esm bench/gateway-observer.bench.ts`
 * (flags: see bench/lib/harness.ts).
 */
import type { GatewayObserver } from '../src/gateway/observe/events.js';
import type { Verbosity } from '../src/gateway/config/gateway-config.js';
import { noopObserver } from '../src/gateway/observe/events.js';
import { createObserver } from '../src/gateway/observe/observer.js';
import { runBench, type Op } from './lib/harness.js';
import { observerOp } from './lib/observer-workload.js';

const setup = (o: GatewayObserver): Op => observerOp(o);

const observer = (verbosity: Verbosity) => () => setup(createObserver({ verbosity, intervalMillis: 0, out: { write: () => true } }));

await runBench(import.meta.url, {
  title: 'Gateway observer, per request (100 points, 2 upstreams)',
  ours: 'normal',
  cases: [
    {
      name: 'onForwarded ×2 + onRequest',
      itemsPerOp: 1,
      itemUnit: 'requests',
      impls: { normal: observer('normal'), basic: observer('basic'), detailed: observer('detailed'), noop: () => setup(noopObserver) },
    },
  ],
});
