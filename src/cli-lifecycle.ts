/**
 * The gateway process's lifecycle as the CLI runs it: what each signal asks for, how a repeated
 * stop signal is told from the same one delivered twice, and the exit codes. No `process` here:
 * cli.ts installs the handlers and acts; test/cli-lifecycle.test.ts steps through this with a clock.
 */
import type { ShutdownReport, UpstreamShutdownReport } from './gateway/observe/events.js';

/**
 * Exit codes of `otlp-fanout`, the one home of these numbers (the usage text and docs/gateway.md
 * repeat them). An orchestrator alerts on `lostData`; `cannotStart` and `usage` mean nothing was
 * ever acknowledged.
 */
export const EXIT_CODES = Object.freeze({
  /** Stopped, and everything acknowledged to clients was delivered. */
  ok: 0,
  /** Could not start (address in use, an unexpected failure); nothing was acknowledged. */
  cannotStart: 1,
  /** Usage or configuration error, before anything listens. */
  usage: 2,
  /** Stopped, and acknowledged data was not delivered: the drain deadline passed, or a second stop signal cut the drain short. */
  lostData: 3,
});

/** What a signal asks of the gateway. */
export type SignalAction = 'stop' | 'reload';

/**
 * The signals the gateway handles and what each asks for (handlers in {@link LifecycleHandlers}).
 * SIGHUP is what operators send a daemon to reload it; left to Node's default it would kill the
 * gateway at once (exit 129). During a drain a reload is refused (the gateway says so).
 */
export const SIGNAL_ACTIONS: Readonly<Record<'SIGTERM' | 'SIGINT' | 'SIGHUP', SignalAction>> = Object.freeze({
  SIGTERM: 'stop',
  SIGINT: 'stop',
  SIGHUP: 'reload',
});

/**
 * A stop signal this soon after the first one is the same request delivered twice, not a second
 * one. It happens whenever a whole process group is signalled and npm is in it: Ctrl-C in a
 * terminal, systemd's default `KillMode=control-group`. The gateway gets the signal from the
 * kernel and again from npm, which forwards SIGINT and SIGTERM to its script; measured 0–2.2 ms
 * apart (`npm start`, npm 11, 5 runs). 500 ms leaves a wide margin for a loaded npm and still
 * honours a deliberate second Ctrl-C.
 */
export const REPEAT_WINDOW_MILLIS = 500;

/** What the CLI does for each decision of {@link createSignalDispatcher}. */
export interface LifecycleHandlers {
  /** The first stop signal: stop accepting, drain, report, exit. */
  drain(signal: NodeJS.Signals): void;
  /** A stop signal within the repeat window of the first: ignored (the drain goes on). */
  repeated(signal: NodeJS.Signals, afterMillis: number): void;
  /** A later stop signal: stop now, say what is abandoned, exit. */
  abandon(signal: NodeJS.Signals): void;
  /** SIGHUP: reload the configuration file (never stops the gateway, never changes the exit code). */
  reload(signal: NodeJS.Signals): void;
}

/** Options of {@link createSignalDispatcher}. */
export interface SignalDispatcherOptions {
  /** Default {@link REPEAT_WINDOW_MILLIS}. */
  readonly repeatWindowMillis?: number;
  /** Milliseconds on a monotonic clock. Default `performance.now`. */
  readonly now?: () => number;
}

/** Returns the function to install for every signal of {@link SIGNAL_ACTIONS}; it decides, the handlers act. */
export function createSignalDispatcher(handlers: LifecycleHandlers, options: SignalDispatcherOptions = {}): (signal: NodeJS.Signals) => void {
  const window = options.repeatWindowMillis ?? REPEAT_WINDOW_MILLIS;
  const now = options.now ?? (() => performance.now());
  let firstStop: number | undefined;
  let abandoned = false;
  return (signal) => {
    const action = (SIGNAL_ACTIONS as Record<string, SignalAction | undefined>)[signal];
    if (action === 'reload') return handlers.reload(signal);
    if (action !== 'stop' || abandoned) return;
    const t = now();
    if (firstStop === undefined) {
      firstStop = t;
      return handlers.drain(signal);
    }
    if (t - firstStop < window) return handlers.repeated(signal, t - firstStop);
    abandoned = true;
    handlers.abandon(signal);
  };
}

/**
 * What a shutdown lost of what clients were told was accepted: the forwarding upstreams' undelivered
 * requests and items. The gateway's own metrics (self-telemetry upstreams) were acknowledged to no
 * one, so they do not count; an upstream used for both counts.
 *
 * With durable storage nothing is lost at a stop: what was not delivered is kept on disk for the
 * next start (`keptRequests`), and {@link describeReport} prints it as kept.
 */
export function lostAcknowledged(report: ShutdownReport, forwarding: ReadonlySet<string>): UpstreamShutdownReport[] {
  return report.upstreams.filter((u) => forwarding.has(u.name) && u.undeliveredRequests > 0);
}

/** The exit code after a stop: {@link EXIT_CODES}.lostData when anything acknowledged was lost. */
export function exitCodeFor(report: ShutdownReport, forwarding: ReadonlySet<string>): number {
  return lostAcknowledged(report, forwarding).length === 0 ? EXIT_CODES.ok : EXIT_CODES.lostData;
}

/**
 * The shutdown report as printed on stdout. `abandoned`: the drain was cut short by a second
 * signal, so what is undelivered was abandoned rather than timed out.
 */
export function describeReport(report: ShutdownReport, forwarding: ReadonlySet<string>, abandoned = false): string[] {
  const lost = lostAcknowledged(report, forwarding);
  const own = report.upstreams.filter((u) => !forwarding.has(u.name) && u.undeliveredRequests > 0);
  const lines: string[] = [];
  const head = `otlp-fanout gateway stopped after ${report.elapsedMs} ms`;
  const kept = report.upstreams.filter((u) => forwarding.has(u.name) && (u.keptRequests ?? 0) > 0);
  if (lost.length === 0 && kept.length > 0) lines.push(`${head}: nothing lost; what is not delivered yet is kept on disk for the next start`);
  else if (lost.length === 0) lines.push(`${head}: everything queued was delivered`);
  else if (abandoned) lines.push(`${head}: the drain was cut short; abandoned:`);
  else lines.push(`${head}: could not deliver everything before the deadline`);
  const what = abandoned ? 'abandoned' : 'undelivered';
  for (const u of lost) lines.push(`  upstream ${u.name}: ${u.undeliveredRequests} requests, ${u.undeliveredItems} items ${what}`);
  for (const u of kept)
    lines.push(`  upstream ${u.name}: ${u.keptRequests} records (${u.keptBytes ?? 0} bytes) of the durable queue not passed yet, kept`);
  for (const u of own) lines.push(`  self-telemetry upstream ${u.name}: ${u.undeliveredRequests} requests of the gateway's own metrics ${what}`);
  const code = exitCodeFor(report, forwarding);
  if (code === EXIT_CODES.lostData) lines.push(`  exit ${code}: acknowledged data was lost`);
  return lines;
}
