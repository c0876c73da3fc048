/**
 * Several observers as one: every event goes to each observer that has the method, in order.
 * `metricsPage` is the first observer's (one page answers a scrape). The gateway guards the whole
 * (guard.ts); an observer that throws here stops the event for those after it, so put the one that
 * matters most (the console and metrics) first.
 */
import type { GatewayObserver } from './events.js';

/** `first` and `others` as one observer (module comment). */
export function combineObservers(first: GatewayObserver, ...others: GatewayObserver[]): GatewayObserver {
  const all = [first, ...others];
  const each = <K extends keyof GatewayObserver>(k: K): GatewayObserver[] => all.filter((o) => o[k] !== undefined);
  const attach = each('attach');
  const request = all;
  const forwarded = each('onForwarded');
  const reload = each('onReload');
  const retired = each('onRetired');
  const drain = each('onDrain');
  const stop = each('onStop');
  const close = each('close');
  return {
    attach: (v) => {
      for (const o of attach) o.attach!(v);
    },
    onRequest(e) {
      for (let i = 0; i < request.length; i++) request[i]!.onRequest(e);
    },
    onRefused(e) {
      for (let i = 0; i < request.length; i++) request[i]!.onRefused(e);
    },
    ...(forwarded.length === 0
      ? {}
      : {
          onForwarded(e) {
            for (let i = 0; i < forwarded.length; i++) forwarded[i]!.onForwarded!(e);
          },
        }),
    onReload(r) {
      for (const o of reload) o.onReload!(r);
    },
    onRetired(r) {
      for (const o of retired) o.onRetired!(r);
    },
    onDrain(d) {
      for (const o of drain) o.onDrain!(d);
    },
    onStop(r) {
      for (const o of stop) o.onStop!(r);
    },
    ...(first.metricsPage === undefined ? {} : { metricsPage: () => first.metricsPage!() }),
    async close() {
      for (const o of close) await o.close!();
    },
  };
}
