#!/usr/bin/env node
/**
 * The `otlp-fanout` command. One subcommand today: `otlp-fanout gateway [flags]`; and
 * `otlp-fanout --version`. The command line is parsed in cli-args.ts.
 *
 * Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), whatever could not be delivered
 * (that is reported on stdout); 1 when the gateway cannot start (address in use) or a
 * second signal cuts the drain short; 2 for a usage or configuration error, before
 * anything listens.
 *
 * Once listening it prints one parseable line first:
 *   `otlp-fanout gateway listening grpc=127.0.0.1:4317 http=127.0.0.1:4318`
 * (`grpc=off` / `http=off` for a disabled receiver), so scripts and tests using port 0
 * can find the bound ports.
 */
import { parseCommandLine, USAGE } from './cli-args.js';
import type { GatewayConfig, GatewayFlags } from './gateway/config/gateway-config.js';
import type { ShutdownReport } from './gateway/observe/events.js';
import { packageVersion } from './internal/package-version.js';

/**
 * The gateway's modules, loaded only when the gateway runs: `--version` and `--help` answer
 * without them (they are most of the CLI's start-up: protobuf-es, the schemas, the receivers).
 */
async function loadGatewayModules() {
  const [config, errors, gateway, observeMetrics, observe] = await Promise.all([
    import('./gateway/config/load.js'),
    import('./gateway/config/config-error.js'),
    import('./gateway/gateway.js'),
    import('./gateway/observe/gateway-metrics.js'),
    import('./gateway/observe/observer.js'),
  ]);
  return {
    GatewayConfigError: errors.GatewayConfigError,
    loadGatewayConfig: config.loadGatewayConfig,
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

function describeReport(report: ShutdownReport): string[] {
  const lines: string[] = [];
  const lost = report.upstreams.filter((u) => u.undeliveredRequests > 0);
  if (lost.length === 0) {
    lines.push(`otlp-fanout gateway stopped after ${report.elapsedMs} ms: everything queued was delivered`);
  } else {
    lines.push(`otlp-fanout gateway stopped after ${report.elapsedMs} ms: could not deliver everything before the deadline`);
    for (const u of lost) lines.push(`  upstream ${u.name}: ${u.undeliveredRequests} requests, ${u.undeliveredItems} items undelivered`);
  }
  return lines;
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

async function gateway(configFile: string | undefined, flags: GatewayFlags): Promise<void> {
  const { GatewayConfigError, loadGatewayConfig, startGateway, createGatewayMeterProvider, createObserver } = await loadGatewayModules();
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig({ ...(configFile === undefined ? {} : { file: configFile }), flags });
  } catch (e) {
    if (e instanceof GatewayConfigError) fail(e.message, 2);
    throw e;
  }
  if (config.grpc === null && config.http === null) fail('both receivers are off; nothing to do', 2);

  const meterProvider = createGatewayMeterProvider({ resource: config.selfTelemetry.resource });
  const observer = createObserver({
    verbosity: config.observe.verbosity,
    intervalMillis: config.observe.intervalMillis,
    out: process.stdout,
    meterProvider,
  });
  let gw: Awaited<ReturnType<typeof startGateway>>;
  try {
    gw = await startGateway(config, { observer, meterProvider });
  } catch (e) {
    await observer.close?.();
    fail(`gateway could not start: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
  const { grpc, http } = gw.addresses;
  say(`otlp-fanout gateway listening grpc=${grpc ?? 'off'} http=${http ?? 'off'}`);
  for (const line of hints(config, grpc, http)) say(line);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      say(`otlp-fanout gateway: second ${signal}, exiting without waiting for the drain`);
      process.exit(1);
    }
    stopping = true;
    say(`otlp-fanout gateway: ${signal}, draining for up to ${config.drainTimeoutMillis} ms`);
    gw.shutdown().then(
      (report) => {
        for (const line of describeReport(report)) say(line);
        process.exit(0);
      },
      (e: unknown) => fail(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`, 1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
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
      fail(`${command.message}\n\n${USAGE}`, 2);
    case 'gateway':
      await gateway(command.configFile, command.flags);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => fail(`unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, 1));
