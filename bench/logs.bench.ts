/**
 * Logs benchmark (kept beside the logs tests until the lead moves it to bench/):
 *
 * - "emit, no sink": the cost of `logger.emit()` when nothing is configured. ours = a provider
 *   with no sink; official = sdk-logs `LoggerProvider` with no processor; api-noop = the
 *   api-logs global with no provider registered (ProxyLogger → NoopLogger), the floor.
 * - "emit + batch + protobuf": per-record cost of recording and encoding, end to end. ours =
 *   provider → batch processor → direct encoder → a sink that keeps the byte count; official =
 *   sdk-logs LoggerProvider → BatchLogRecordProcessor → an exporter calling
 *   ProtobufLogsSerializer. Same records, same batch size (512). Both loops yield to the event
 *   loop after each 512 records, because the official processor only starts the next export after
 *   a promise settles and would otherwise drop records; the child checks that no record was lost.
 *
 * Run: `node --import tsx/esm bench/logs.bench.ts [--rounds N --time MS --warmup MS]`.
 */
import { logs, type LogRecord as ApiLogRecord } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider as SdkLoggerProvider,
  type LogRecordExporter,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { runBench, median, type Op } from './lib/harness.js';
import { createLoggerProvider } from '../src/logs/logger-provider.js';

const RECORDS_PER_CALL = 1000;
const BATCH = 512;
const RESOURCE = { 'service.name': 'bench', 'service.version': '1.0.0', 'host.name': 'bench-host' };

// Distinct records with the shape of an HTTP access log; built once, untimed. Typed as the api's
// records, which our emit() accepts unchanged.
const records: ApiLogRecord[] = Array.from({ length: 4096 }, (_, i) => ({
  severityNumber: 9,
  severityText: 'INFO',
  body: `GET /api/items/${i} 200`,
  attributes: { 'http.request.method': 'GET', 'http.route': '/api/items/:id', 'http.response.status_code': 200, 'duration.ms': 1.5 + i / 1000 },
}));

function emitLoop(emit: (r: ApiLogRecord) => void): Op {
  let k = 0;
  return () => {
    for (let i = 0; i < RECORDS_PER_CALL; i++) {
      emit(records[k]!);
      k = (k + 1) & 4095;
    }
    return k;
  };
}

/**
 * Times `batches` rounds of BATCH emits, yielding after each, for warmup + time ms; returns the
 * median ns per record over rounds of ~20 batches. `exported()` must account for every record.
 */
async function timeEndToEnd(emit: (r: ApiLogRecord) => void, flush: () => Promise<void>, exported: () => number): Promise<number> {
  const warmupMs = Number(process.argv.at(-2));
  const timeMs = Number(process.argv.at(-1));
  let emitted = 0;
  let k = 0;
  const round = async (): Promise<void> => {
    for (let b = 0; b < 20; b++) {
      for (let i = 0; i < BATCH; i++) {
        emit(records[k]!);
        k = (k + 1) & 4095;
      }
      emitted += BATCH;
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await round();
  (globalThis as { gc?: () => void }).gc?.();
  const samples: number[] = [];
  const end = performance.now() + timeMs;
  while (samples.length < 5 || (performance.now() < end && samples.length < 10_000)) {
    const t0 = process.hrtime.bigint();
    await round();
    samples.push(Number(process.hrtime.bigint() - t0) / (20 * BATCH));
  }
  await flush();
  if (exported() !== emitted) throw new Error(`lost records: emitted ${emitted}, exported ${exported()}`);
  return median(samples);
}

await runBench(import.meta.url, {
  title: 'Logs: emit',
  cases: [
    {
      name: 'emit, no sink configured',
      opsPerCall: RECORDS_PER_CALL,
      impls: {
        ours: () => {
          const log = createLoggerProvider().getLogger('bench');
          return emitLoop((r) => log.emit(r));
        },
        official: () => {
          const log = new SdkLoggerProvider({ resource: resourceFromAttributes(RESOURCE) }).getLogger('bench');
          return emitLoop((r) => log.emit(r));
        },
        'api-noop': () => {
          logs.disable();
          const log = logs.getLogger('bench');
          return emitLoop((r) => log.emit(r));
        },
      },
    },
    {
      kind: 'value',
      name: 'emit + batch 512 + protobuf encode, per record',
      unit: 'ns/record',
      impls: {
        ours: async () => {
          let count = 0;
          let bytes = 0;
          const provider = createLoggerProvider({
            resource: RESOURCE,
            batch: { maxExportBatchSize: BATCH },
            sink: {
              export(body, n) {
                bytes += body.length;
                count += n;
              },
            },
          });
          const log = provider.getLogger('bench');
          const ns = await timeEndToEnd(
            (r) => log.emit(r),
            () => provider.forceFlush(),
            () => count,
          );
          if (bytes === 0) throw new Error('nothing encoded');
          await provider.shutdown();
          return ns;
        },
        official: async () => {
          let count = 0;
          let bytes = 0;
          const exporter: LogRecordExporter = {
            export(batch: ReadableLogRecord[], done: (r: ExportResult) => void) {
              bytes += ProtobufLogsSerializer.serializeRequest(batch)?.length ?? 0;
              count += batch.length;
              done({ code: ExportResultCode.SUCCESS });
            },
            async shutdown() {},
            async forceFlush() {},
          };
          const processor = new BatchLogRecordProcessor({ exporter, maxExportBatchSize: BATCH, maxQueueSize: 2048 });
          const provider = new SdkLoggerProvider({ resource: resourceFromAttributes(RESOURCE), processors: [processor] });
          const log = provider.getLogger('bench');
          const ns = await timeEndToEnd(
            (r) => log.emit(r),
            () => provider.forceFlush(),
            () => count,
          );
          if (bytes === 0) throw new Error('nothing encoded');
          await provider.shutdown();
          return ns;
        },
      },
    },
  ],
});
