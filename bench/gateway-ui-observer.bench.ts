/**
 * The web inspector's cost per request in process, with no browser connected: what the gateway
 * calls per accepted request (`onForwarded` for 2 upstreams, then `onRequest`) on the CLI's observer
 * alone (`off`) and on the CLI's observer combined with an inspector that has no client (`on`), as
 * src/gateway/inspect/inspection.ts composes them. The difference is the inspector's whole request
 * path cost without a browser (its windows); compare it with the gateway's CPU per forwarded request
 * (bench/gateway-ui.bench.ts, BENCHMARKS.md). Run: `node --import tsx/esm bench/gateway-ui-observer.bench.ts`.
 */
import type { GatewayObserver } from '../src/gateway/observe/events.js';
import { combineObservers } from '../src/gateway/observe/combine.js';
import { createObserver } from '../src/gateway/observe/observer.js';
import { createInspector } from '../src/gateway/inspect/inspector.js';
import { runBench, type Op } from './lib/harness.js';
import { observerOp } from './lib/observer-workload.js';

const setup = (o: GatewayObserver): Op => observerOp(o, 'acme');

const cli = (): GatewayObserver => createObserver({ verbosity: 'normal', intervalMillis: 0, out: { write: () => true } });

await runBench(import.meta.url, {
  title: 'Gateway observer with the web inspector on and no browser, per request (100 points, 2 upstreams)',
  ours: 'on',
  cases: [
    {
      name: 'onForwarded ×2 + onRequest',
      itemsPerOp: 1,
      itemUnit: 'requests',
      impls: {
        on: () => setup(combineObservers(cli(), createInspector({ tickMillis: 3_600_000 }))),
        off: () => setup(combineObservers(cli())),
      },
    },
  ],
});
