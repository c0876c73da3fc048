/**
 * An edge process of test/telemetry-storage.test.ts: createTelemetry() with storage and one delta
 * `otlp` backend, records a counter and a log record tagged with its run, exports (`forceFlush`),
 * then, by `mode`:
 * - `shutdown`: shuts down and prints `REPORT <ShutdownReport as JSON>`;
 * - `hold`: stays alive (retrying) until the test kills it.
 * Prints `FLUSHED <stats as JSON>` once the export was tried (the requests are written to the log
 * by then: a flush waits for that), and every warning as `WARN <message>`. TIMEOUT is the export
 * timeout: what forceFlush() and shutdown() wait at most while the receiver refuses.
 *
 * `node --import tsx/esm test/support/storage-child.ts DIRECTORY ENDPOINT RUN shutdown|hold TIMEOUT`
 */
import { createTelemetry, setDiagnosticSink } from '../../src/index.js';

const [directory, endpoint, run, mode, timeout] = process.argv.slice(2);
if (directory === undefined || endpoint === undefined || run === undefined || (mode !== 'shutdown' && mode !== 'hold') || timeout === undefined) {
  throw new Error('usage: storage-child.ts DIRECTORY ENDPOINT RUN shutdown|hold TIMEOUT');
}
setDiagnosticSink((m) => process.stdout.write(`WARN ${m.replaceAll('\n', ' ')}\n`));

const telemetry = createTelemetry({
  env: {},
  serviceName: 'edge',
  storage: { directory },
  backends: [
    {
      name: 'central',
      endpoint,
      protocol: 'http/protobuf',
      temporality: 'delta',
      retry: { initialBackoffMillis: 50, maxBackoffMillis: 200 },
    },
  ],
  exportIntervalMillis: 3_600_000,
  exportTimeoutMillis: Number(timeout),
  selfMetrics: false,
});
const orders = telemetry.meterProvider.getMeter('edge').createCounter('edge.orders');
orders.add(5, { run });
orders.add(2, { run });
telemetry.loggerProvider.getLogger('edge').emit({ body: `run ${run}`, attributes: { run } });
await telemetry.forceFlush();
// Each lane tried at least once (the first export loads the transport, which may outlast the flush).
for (let i = 0; i < 1000 && telemetry.stats().some((s) => s.requestsSent === 0); i++) await new Promise((r) => setTimeout(r, 10));
process.stdout.write(`FLUSHED ${JSON.stringify(telemetry.stats())}\n`);
if (mode === 'hold') {
  // Alive until killed; the backend keeps retrying meanwhile.
  setInterval(() => undefined, 60_000);
} else {
  const report = await telemetry.shutdown();
  process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
}
