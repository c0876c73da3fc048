/** Shared test helpers for the logs suites (not a test file itself). */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setDiagnosticSink, resetWarnings } from '../../src/internal/warn.js';

/** Captures diagnostics from now on; `restore()` puts the default sink back. */
export function captureWarnings(): { readonly messages: string[]; restore(): void } {
  const messages: string[] = [];
  resetWarnings();
  setDiagnosticSink((m) => messages.push(m));
  return {
    messages,
    restore() {
      resetWarnings();
      setDiagnosticSink((m) => process.emitWarning(m, { code: 'OTLP_FANOUT' }));
    },
  };
}

/** Polls `cond` every few ms; rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A promise with its resolvers exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface ContextShape {
  getValue(key: symbol): unknown;
}

/**
 * A minimal AsyncLocalStorage context manager with the shape `@opentelemetry/api`'s
 * `context.setGlobalContextManager()` expects (@opentelemetry/context-async-hooks is not installed).
 */
export function createAlsContextManager<C extends ContextShape>(root: C) {
  const als = new AsyncLocalStorage<C>();
  return {
    active: (): C => als.getStore() ?? root,
    with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: C, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
      return als.run(ctx, () => fn.call(thisArg, ...args));
    },
    bind<T>(_ctx: C, target: T): T {
      return target;
    },
    enable() {
      return this;
    },
    disable() {
      als.disable();
      return this;
    },
  };
}
