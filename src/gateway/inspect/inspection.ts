/**
 * What the CLI sets up around its observer for `observe.ui` and `observe.metrics`: the inspector
 * (when on), the endpoints' servers, and the policy for `GET /metrics` on the OTLP HTTP receiver.
 *
 * `/metrics` on the OTLP port (where it was before it had an address of its own) is kept only where
 * that is as safe as the new default: no `observe.metrics.address` is configured and the HTTP
 * receiver listens on loopback. A receiver that clients reach from other machines answers 404 there:
 * its tenant and service names are the operator's business (docs/gateway-metrics.md). The check
 * reads the receiver's current address, so a reload that moves it applies at once.
 */
import type { GatewayConfig } from '../config/gateway-config.js';
import { isLoopbackHost } from '../config/observe-endpoints.js';
import { combineObservers } from '../observe/combine.js';
import type { GatewayObserver, GatewayView, MetricsPage } from '../observe/events.js';
import { createInspector } from './inspector.js';
import type { Inspector, InspectorOptions } from './inspector.js';
import { startObserveEndpoints } from './observe-server.js';
import type { ObserveEndpoints } from './observe-server.js';

/** Options of {@link startInspection}. */
export interface InspectionOptions {
  readonly config: GatewayConfig;
  /** The CLI's observer (console, self-metrics, the Prometheus page). */
  readonly observer: GatewayObserver;
  /** The configuration in effect now (after reloads), for the config page. Default: `config`. */
  readonly currentConfig?: () => GatewayConfig;
  readonly inspector?: InspectorOptions;
  readonly assetsDir?: string;
}

/** The observer to give the gateway, and where the inspector and /metrics listen. */
export interface Inspection {
  readonly observer: GatewayObserver;
  readonly endpoints: ObserveEndpoints;
  readonly inspector: Inspector | undefined;
}

/** The host of `host:port` (IPv6 unbracketed). */
function hostOf(address: string): string {
  return address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.slice(0, address.lastIndexOf(':'));
}

/** Binds the endpoints (rejects when an address cannot be bound: nothing is left listening) and composes the observer. */
export async function startInspection(options: InspectionOptions): Promise<Inspection> {
  const { config, observer } = options;
  const inspector = config.observe.ui === null ? undefined : createInspector(options.inspector);
  const page = observer.metricsPage === undefined ? undefined : async (): Promise<MetricsPage | undefined> => observer.metricsPage!();
  let endpoints: ObserveEndpoints;
  try {
    endpoints = await startObserveEndpoints({
      ui: config.observe.ui,
      metrics: config.observe.metrics,
      inspector,
      config: options.currentConfig ?? (() => config),
      metricsPage: page,
      assetsDir: options.assetsDir,
    });
  } catch (e) {
    await inspector?.close();
    throw e;
  }
  let view: GatewayView | undefined;
  const onReceiver = (): boolean => {
    const http = view?.addresses.http;
    return config.observe.metrics === null && http !== undefined && isLoopbackHost(hostOf(http));
  };
  const combined = inspector === undefined ? observer : combineObservers(observer, inspector);
  const composed: GatewayObserver = {
    ...combined,
    attach(v) {
      view = v;
      combined.attach?.(v);
    },
    ...(page === undefined ? {} : { metricsPage: () => (onReceiver() ? page() : undefined) }),
    async close() {
      await combined.close?.();
      await inspector?.close();
      await endpoints.close();
    },
  };
  return { observer: composed, endpoints, inspector };
}
