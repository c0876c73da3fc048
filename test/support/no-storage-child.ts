/**
 * A process of test/telemetry-storage.test.ts that uses createTelemetry() with an `otlp` backend and
 * no storage: records, exports to ENDPOINT, shuts down, then prints `LOADED <JSON>`, the src/ files
 * this process loaded (every module resolution is reported by a loader hook registered before
 * otlp-fanout is imported), and `REPORT <ShutdownReport as JSON>`. Run it from an empty directory to
 * see what it writes there.
 *
 * `node --import <tsx/esm> <root>/test/support/no-storage-child.ts ENDPOINT`
 */
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const [endpoint] = process.argv.slice(2);
if (endpoint === undefined) throw new Error('usage: no-storage-child.ts ENDPOINT');

const loaded = new Set<string>();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => loaded.add(url));
port1.unref();
// Runs on the loader thread: reports each resolved URL here.
const hook = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] });

const { createTelemetry } = await import('../../src/index.js');
const telemetry = createTelemetry({
  env: {},
  serviceName: 'no-storage',
  backends: [{ name: 'central', endpoint, temporality: 'delta' }],
  exportIntervalMillis: 3_600_000,
  selfMetrics: false,
});
telemetry.meterProvider.getMeter('edge').createCounter('edge.orders').add(1);
telemetry.loggerProvider.getLogger('edge').emit({ body: 'no storage' });
await telemetry.forceFlush();
const report = await telemetry.shutdown();
// Messages from the loader thread arrive asynchronously: one more turn for the last ones.
await new Promise((r) => setTimeout(r, 50));
const src = new URL('../../src/', import.meta.url).href;
const files = [...loaded].filter((u) => u.startsWith(src)).map((u) => u.slice(src.length));
process.stdout.write(`LOADED ${JSON.stringify(files.sort())}\nREPORT ${JSON.stringify(report)}\n`);
