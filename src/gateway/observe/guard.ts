/**
 * Wraps an observer so that its bugs never reach a request: each call is caught and
 * reported once (warn-once), and the gateway carries on.
 */
import { warnOnce } from '../../internal/warn.js';
import type { GatewayObserver } from './events.js';

/** The same observer with every method guarded; optional methods stay optional. */
export function guardObserver(o: GatewayObserver): GatewayObserver {
  const report = (method: string, e: unknown): void => {
    warnOnce(`gateway-observer:${method}`, `gateway observer ${method}() failed: ${e instanceof Error ? e.message : String(e)}`);
  };
  const guarded: GatewayObserver = {
    onRequest(event) {
      try {
        o.onRequest(event);
      } catch (e) {
        report('onRequest', e);
      }
    },
    onRefused(event) {
      try {
        o.onRefused(event);
      } catch (e) {
        report('onRefused', e);
      }
    },
  };
  if (o.attach !== undefined) {
    guarded.attach = (view) => {
      try {
        o.attach!(view);
      } catch (e) {
        report('attach', e);
      }
    };
  }
  if (o.onForwarded !== undefined) {
    guarded.onForwarded = (event) => {
      try {
        o.onForwarded!(event);
      } catch (e) {
        report('onForwarded', e);
      }
    };
  }
  if (o.onProcessed !== undefined) {
    guarded.onProcessed = (event) => {
      try {
        o.onProcessed!(event);
      } catch (e) {
        report('onProcessed', e);
      }
    };
  }
  if (o.onDrain !== undefined) {
    guarded.onDrain = (deadline) => {
      try {
        o.onDrain!(deadline);
      } catch (e) {
        report('onDrain', e);
      }
    };
  }
  if (o.onStop !== undefined) {
    guarded.onStop = (r) => {
      try {
        o.onStop!(r);
      } catch (e) {
        report('onStop', e);
      }
    };
  }
  if (o.onReload !== undefined) {
    guarded.onReload = (r) => {
      try {
        o.onReload!(r);
      } catch (e) {
        report('onReload', e);
      }
    };
  }
  if (o.onRetired !== undefined) {
    guarded.onRetired = (r) => {
      try {
        o.onRetired!(r);
      } catch (e) {
        report('onRetired', e);
      }
    };
  }
  if (o.metricsPage !== undefined) {
    guarded.metricsPage = async () => {
      try {
        return await o.metricsPage!();
      } catch (e) {
        report('metricsPage', e);
        return undefined;
      }
    };
  }
  if (o.close !== undefined) {
    guarded.close = async () => {
      try {
        await o.close!();
      } catch (e) {
        report('close', e);
      }
    };
  }
  return guarded;
}
