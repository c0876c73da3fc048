/**
 * The gateway's own metrics, exported to the configured self-telemetry upstreams: a
 * consumer registered on the observer's meter provider, collected every interval and
 * queued to each upstream's backend like any other request (own queue, retry, isolation).
 */
import { scanRequest } from '../../otlp/scan.js';
import type { MeterProvider, MetricConsumer } from '../../metrics/meter-provider.js';
import { warnOnce } from '../../internal/warn.js';
import type { Backend } from '../../export/backend.js';
import { protobufToJsonBody } from '../../transport/json-body.js';
import type { Encoding } from '../../transport/types.js';

/** What self-telemetry needs of an upstream (forward/upstream.ts's Upstream is one). */
export interface SelfTelemetryTarget {
  readonly encoding: Encoding;
  readonly backend: Pick<Backend, 'enqueue'>;
}

export interface SelfTelemetry {
  /** Collects once more and stops the timer; the caller then shuts the upstreams down. */
  stop(): Promise<void>;
}

/** Starts periodic export of `provider`'s metrics to `upstreams` (nothing when there are none). */
export function startSelfTelemetry(provider: MeterProvider, upstreams: readonly SelfTelemetryTarget[], intervalMillis: number): SelfTelemetry {
  if (upstreams.length === 0) return { stop: () => Promise.resolve() };
  // Cumulative: the OTLP exporter default, and safe across a restarted or lossy upstream.
  const consumer: MetricConsumer = provider.registerConsumer({ temporality: 'cumulative' });
  let running: Promise<void> = Promise.resolve();

  async function exportOnce(): Promise<void> {
    let bodies: Uint8Array[];
    try {
      bodies = await consumer.collect();
    } catch (e) {
      warnOnce('gateway-self-collect', `gateway self-telemetry collection failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    for (const body of bodies) {
      const items = scanRequest('metrics', body).items;
      let json: Uint8Array | undefined;
      for (const u of upstreams) {
        // Transcoded from the bytes: the same JSON value as decoding and encoding, without the messages.
        if (u.encoding === 'json') json ??= protobufToJsonBody('metrics', body);
        u.backend.enqueue('metrics', u.encoding === 'json' ? json! : body, items);
      }
    }
  }

  const timer = setInterval(() => {
    running = running.then(exportOnce);
  }, intervalMillis);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      running = running.then(exportOnce);
      await running;
      consumer.unregister();
    },
  };
}
