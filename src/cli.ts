#!/usr/bin/env node
/**
 * The `otlp-fanout` command. One subcommand today: `otlp-fanout gateway [flags]`; and
 * `otlp-fanout --version`. The command line is parsed in cli-args.ts; signals and exit codes
 * are decided in cli-lifecycle.ts (0 stopped with everything delivered, 1 could not start,
 * 2 usage or configuration error, 3 stopped with acknowledged data lost). SIGHUP and `--watch`
 * reload the configuration file with the same flags (a reload never exits).
 *
 * Once listening it prints one parseable line first:
 *   `otlp-fanout gateway listening grpc=127.0.0.1:4317 http=127.0.0.1:4318 pid=4242`
 * (`grpc=off` / `http=off` for a disabled receiver), so scripts and tests using port 0
 * can find the bound ports, and a supervisor the process to signal. A reload that moves a
 * receiver prints the line again with the new addresses.
 */
import * as path from 'node:path';
import { parseCommandLine, USAGE } from './cli-args.js';
import { createSignalDispatcher, describeReport, EXIT_CODES, exitCodeFor, SIGNAL_ACTIONS } from './cli-lifecycle.js';
import type { GatewayConfig, GatewayFlags } from './gateway/config/gateway-config.js';
import type { Gateway, StorageView } from './gateway/gateway.js';
import type { GatewayObserver, ReloadResult } from './gateway/observe/events.js';
import { packageVersion } from './internal/package-version.js';

/**
 * The gateway's modules, loaded only when the gateway runs: `--version` and `--help` answer
 * without them (they are most of the CLI's start-up: protobuf-es, the schemas, the receivers).
 */
async function loadGatewayModules() {
  const [config, remote, errors, gateway, observeMetrics, observe] = await Promise.all([
    import('./gateway/config/load.js'),
    import('./gateway/config/remote.js'),
    import('./gateway/config/config-error.js'),
    import('./gateway/gateway.js'),
    import('./gateway/observe/gateway-metrics.js'),
    import('./gateway/observe/observer.js'),
  ]);
  return {
    GatewayConfigError: errors.GatewayConfigError,
    loadGatewayConfig: config.loadGatewayConfig,
    startingConfig: remote.startingConfig,
    startGateway: gateway.startGateway,
    createGatewayMeterProvider: observeMetrics.createGatewayMeterProvider,
    createObserver: observe.createObserver,
  };
}

/** Writes to stdout, the channel for the listening line, hints and the shutdown report. */
function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, code: number): never {
  process.stderr.write(`otlp-fanout: ${message}\n`);
  process.exit(code);
}

function hints(config: GatewayConfig, grpc: string | undefined, http: string | undefined): string[] {
  const lines: string[] = [];
  if (http !== undefined) {
    const scheme = config.http?.tls === null ? 'http' : 'https';
    lines.push(`  OTLP/HTTP: OTEL_EXPORTER_OTLP_ENDPOINT=${scheme}://${http} (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf or http/json)`);
  }
  if (grpc !== undefined) {
    const scheme = config.grpc?.tls === null ? 'http' : 'https';
    lines.push(`  OTLP/gRPC: OTEL_EXPORTER_OTLP_ENDPOINT=${scheme}://${grpc} OTEL_EXPORTER_OTLP_PROTOCOL=grpc`);
  }
  if (config.tenants.length > 0) {
    lines.push(`  authentication is on: send OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token> (or ${config.apiKeyHeader}=<key>)`);
  }
  const targets = config.upstreams.map((u) => u.display);
  lines.push(targets.length === 0 ? '  forwarding nowhere: observing only' : `  forwarding to: ${targets.join(', ')}`);
  for (const t of config.tenants) {
    if (t.upstreams.length > 0) lines.push(`  tenant ${t.name} also to: ${t.upstreams.map((u) => u.display).join(', ')}`);
  }
  return lines;
}

/** Where the OpAMP agent reports, and as whom (the endpoint without its query: it may hold a key). */
function opampLines(gw: Gateway): string[] {
  const opamp = gw.config.opamp;
  if (opamp === null) return [];
  if (gw.opamp === undefined) return ['  OpAMP: the client could not start (see the warning); serving without it'];
  const url = new URL(opamp.endpoint);
  return [`  OpAMP: reporting to ${url.origin}${url.pathname} as instance ${gw.opamp.status().instanceUid}`];
}

/** What durable storage held and repaired at start. */
function storageLines(storage: StorageView): string[] {
  const s = storage.atStart;
  const backlog = Math.max(0, ...s.readers.map((r) => r.backlogRecords));
  const lines = [`  durable storage: ${storage.directory} (${s.bytesOnDisk} of ${s.maxBytes} bytes used; ${backlog} records to deliver from before)`];
  const repaired: string[] = [];
  if (s.tornTails > 0) repaired.push(`a torn last record truncated (${s.tornBytes} bytes)`);
  if (s.corruptSegments > 0) repaired.push(`${s.corruptSegments} damaged segment files set aside`);
  if (s.cursorsLost > 0) repaired.push(`${s.cursorsLost} unreadable cursors restarted from the oldest data`);
  if (repaired.length > 0) lines.push(`  durable storage recovered: ${repaired.join('; ')}`);
  for (const f of storage.forgotten) {
    lines.push(`  durable storage: upstream ${f.name} is no longer configured; dropped its ${f.records} queued records (${f.bytes} bytes)`);
  }
  return lines;
}

/**
 * How long an abandoning stop may take to count what it abandons (in-flight calls are aborted and
 * settle in milliseconds; a transport that hangs on close must not keep the process alive).
 */
const ABANDON_LIMIT_MILLIS = 2000;

/** The parseable listening line (module comment). */
function listeningLine(gw: Gateway): string {
  const { grpc, http } = gw.addresses;
  return `otlp-fanout gateway listening grpc=${grpc ?? 'off'} http=${http ?? 'off'} pid=${process.pid}`;
}

async function gateway(configFile: string | undefined, flags: GatewayFlags, watch: boolean): Promise<void> {
  // Signals are handled from the start, so SIGHUP never kills, even while loading.
  let gw: Gateway | undefined;
  // Forwarding upstreams' names, for the exit code (cli-lifecycle.ts): every name a reload added too,
  // since an upstream a reload removed may still be draining when the gateway stops.
  let forwarding: ReadonlySet<string> = new Set();
  let drainMillis = 0;
  let reloadAfterStart: string | undefined;
  let stopping = false;

  /**
   * SIGHUP and --watch: the file and the same flags again, through the gateway's one reload path
   * (serialized there). The observer prints the outcome; an invalid file changes nothing.
   */
  function reload(trigger: string): void {
    const running = gw;
    if (stopping) {
      say(`otlp-fanout gateway: ${trigger} while stopping; not reloading`);
      return;
    }
    if (running === undefined) {
      reloadAfterStart = trigger;
      say(`otlp-fanout gateway: ${trigger} while starting; reloading once started`);
      return;
    }
    // What an applied reload changes here is taken up by `applied` (below), whatever the trigger.
    running
      .reloadFrom({ ...(configFile === undefined ? {} : { file: configFile }), flags }, trigger)
      .catch((e: unknown) => say(`otlp-fanout gateway: reload failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** After any applied reload (SIGHUP, --watch, OpAMP): the names for the exit code, the drain deadline, the listening line. */
  let listening: string | undefined;
  function applied(result: ReloadResult): void {
    const running = gw;
    if (result.outcome !== 'applied' || running === undefined) return;
    forwarding = new Set([...forwarding, ...running.upstreams.map((u) => u.name)]);
    drainMillis = running.config.drainTimeoutMillis;
    // A receiver moved: the line scripts read, again, with the new addresses.
    const now = listeningLine(running);
    if (now !== listening) say(now);
    listening = now;
  }

  const onSignal = createSignalDispatcher({
    drain(signal) {
      stopping = true;
      if (gw === undefined) {
        say(`otlp-fanout gateway: ${signal} before listening; nothing was acknowledged, exiting`);
        process.exit(EXIT_CODES.ok);
      }
      say(`otlp-fanout gateway: ${signal}, draining for up to ${drainMillis} ms (a second ${signal} stops at once)`);
      gw.shutdown().then(
        (report) => {
          for (const line of describeReport(report, forwarding)) say(line);
          process.exit(exitCodeFor(report, forwarding));
        },
        (e: unknown) => fail(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`, EXIT_CODES.lostData),
      );
    },
    repeated(signal, afterMillis) {
      say(
        `otlp-fanout gateway: ${signal} again after ${afterMillis.toFixed(1)} ms, taken as the same stop (a process group signalled with npm in it delivers it twice); still draining`,
      );
    },
    abandon(signal) {
      say(`otlp-fanout gateway: second ${signal}, stopping without waiting for the drain`);
      const running = gw!;
      // Not unref()ed, unlike every other timer: it guarantees the exit (and its code) even if nothing else is pending.
      const limit = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ABANDON_LIMIT_MILLIS));
      Promise.race([running.abandon(), limit]).then(
        (report) => {
          if (report === undefined) {
            say(`otlp-fanout gateway: could not count what was abandoned within ${ABANDON_LIMIT_MILLIS} ms`);
            process.exit(EXIT_CODES.lostData);
          }
          for (const line of describeReport(report, forwarding, true)) say(line);
          process.exit(exitCodeFor(report, forwarding));
        },
        (e: unknown) => fail(`stopping failed: ${e instanceof Error ? e.message : String(e)}`, EXIT_CODES.lostData),
      );
    },
    reload(signal) {
      reload(signal);
    },
  });
  for (const signal of Object.keys(SIGNAL_ACTIONS)) process.on(signal, onSignal);

  if (watch && configFile !== undefined) {
    // Watching before the file is first read, so no change is missed: one made while starting reloads once started.
    const { watchFile } = await import('./gateway/config/watch-file.js');
    watchFile(configFile, () => reload('watch'), {
      onError: (e) => say(`otlp-fanout gateway: --watch stopped: ${e.message}; SIGHUP still reloads`),
    });
  }
  const { GatewayConfigError, loadGatewayConfig, startingConfig, startGateway, createGatewayMeterProvider, createObserver } =
    await loadGatewayModules();
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig({ ...(configFile === undefined ? {} : { file: configFile }), flags });
  } catch (e) {
    if (e instanceof GatewayConfigError) fail(e.message, EXIT_CODES.usage);
    throw e;
  }
  // Remote configs (OpAMP) are read as the file is: the same flags over them, relative paths from its directory.
  const remoteConfig = { flags, ...(configFile === undefined ? {} : { baseDir: path.dirname(path.resolve(configFile)) }) };
  // With OpAMP and storage, a remote config stored by an earlier run is what starts, the console and self-telemetry included.
  config = await startingConfig(config, remoteConfig);
  if (config.grpc === null && config.http === null) fail('both receivers are off; nothing to do', EXIT_CODES.usage);

  const meterProvider = createGatewayMeterProvider({ resource: config.selfTelemetry.resource });
  const printer = createObserver({
    verbosity: config.observe.verbosity,
    intervalMillis: config.observe.intervalMillis,
    out: process.stdout,
    meterProvider,
  });
  const observer: GatewayObserver = {
    ...printer,
    onReload(result) {
      printer.onReload?.(result);
      applied(result);
    },
  };
  let started: Gateway;
  try {
    started = await startGateway(config, { observer, meterProvider, remoteConfig });
  } catch (e) {
    await observer.close?.();
    fail(`gateway could not start: ${e instanceof Error ? e.message : String(e)}`, EXIT_CODES.cannotStart);
  }
  gw = started;
  forwarding = new Set(started.upstreams.map((u) => u.name));
  drainMillis = started.config.drainTimeoutMillis;
  const { grpc, http } = started.addresses;
  listening = listeningLine(started);
  say(listening);
  for (const line of hints(started.config, grpc, http)) say(line);
  if (started.storage !== undefined) for (const line of storageLines(started.storage)) say(line);
  for (const line of opampLines(started)) say(line);
  if (reloadAfterStart !== undefined) reload(reloadAfterStart);

  // A console reader that goes away (`| head`, a closed terminal) must not take the gateway down:
  // forwarding matters more than the summary, so output errors are ignored.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

async function main(argv: readonly string[]): Promise<void> {
  const command = parseCommandLine(argv);
  switch (command.kind) {
    case 'version':
      say(`otlp-fanout ${packageVersion()}`);
      return;
    case 'help':
      say(USAGE);
      process.exitCode = command.exitCode;
      return;
    case 'usage-error':
      return fail(`${command.message}\n\n${USAGE}`, EXIT_CODES.usage);
    case 'gateway':
      await gateway(command.configFile, command.flags, command.watch);
  }
}

main(process.argv.slice(2)).catch((e: unknown) =>
  fail(`unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, EXIT_CODES.cannotStart),
);
