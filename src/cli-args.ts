/**
 * The `otlp-fanout` command line, parsed without loading anything else: `--version` and `--help`
 * answer from here, and the docs test parses the documented command lines with this parser.
 */
import { parseArgs } from 'node:util';
import type { GatewayFlags } from './gateway/config/gateway-config.js';

/** The usage text, printed by `--help` and after a usage error. */
export const USAGE = `Usage: otlp-fanout gateway [options]
       otlp-fanout --version

An OTLP gateway: receives OTLP (gRPC, HTTP/protobuf, HTTP/JSON; metrics, logs, traces),
authenticates tenants, routes and forwards to several upstreams at once.

Options:
  --grpc HOST:PORT      OTLP/gRPC listen address (default 127.0.0.1:4317; "off" disables)
  --http HOST:PORT      OTLP/HTTP listen address (default 127.0.0.1:4318; "off" disables)
  --forward URL         add an upstream that gets everything (repeatable):
                          grpc://HOST:PORT, grpcs://HOST:PORT      OTLP/gRPC (plaintext, TLS)
                          http(s)://HOST:PORT[/PATH]               OTLP/HTTP protobuf
                          http(s)://HOST:PORT[/PATH]?encoding=json OTLP/HTTP JSON
  --storage DIR         durable queue in DIR: a request is acknowledged once on disk, and
                        what is queued survives a crash or a restart (see docs/gateway.md)
  --opamp URL           report to an OpAMP server and take remote configs from it:
                          http(s)://HOST:PORT/PATH (polling), ws(s)://HOST:PORT/PATH (WebSocket)
  --verbosity LEVEL     console output: basic, normal (default) or detailed
  --config FILE         YAML file for everything else: TLS, tenants, upstreams, routes,
                        limits, drain timeout, self-telemetry (see docs/gateway.md)
  --watch               reload when the --config file changes (as SIGHUP does)
  -v, --version         print "otlp-fanout <version>" and exit
  -h, --help            show this help

Without flags it listens on loopback, forwards nowhere and prints what it receives.
SIGTERM/SIGINT: stop accepting, deliver what is queued (drainTimeout), report; a second one
(after 500 ms) stops at once and says what it abandons. SIGHUP: reload the --config file and
the same flags without dropping a request; an invalid file is reported and changes nothing.
Exit codes: 0 stopped, everything delivered; 1 could not start; 2 usage or configuration
error; 3 stopped, acknowledged data lost.
`;

/** What the command line asks for. */
export type CommandLine =
  /** Print `otlp-fanout <version>`, exit 0. */
  | { readonly kind: 'version' }
  /** Print the usage; exit 2 when it stands in for a missing command, else 0. */
  | { readonly kind: 'help'; readonly exitCode: 0 | 2 }
  /** Run the gateway; `watch`: reload when `configFile` changes. */
  | { readonly kind: 'gateway'; readonly configFile: string | undefined; readonly flags: GatewayFlags; readonly watch: boolean }
  /** Unknown command or flag, missing value: print `message` and the usage, exit 2. */
  | { readonly kind: 'usage-error'; readonly message: string };

/** Parses `argv` (without the node and script paths). Never throws; never reads a file. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [command, ...rest] = argv;
  if (command === '-v' || command === '--version') return { kind: 'version' };
  if (command === undefined) return { kind: 'help', exitCode: 2 };
  if (command === '-h' || command === '--help' || command === 'help') return { kind: 'help', exitCode: 0 };
  if (command !== 'gateway') return { kind: 'usage-error', message: `unknown command ${JSON.stringify(command)}` };
  let values: {
    grpc?: string;
    http?: string;
    forward?: string[];
    verbosity?: string;
    config?: string;
    storage?: string;
    opamp?: string;
    watch?: boolean;
    help?: boolean;
    version?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        grpc: { type: 'string' },
        http: { type: 'string' },
        forward: { type: 'string', multiple: true },
        verbosity: { type: 'string' },
        config: { type: 'string' },
        storage: { type: 'string' },
        opamp: { type: 'string' },
        watch: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return { kind: 'usage-error', message: e instanceof Error ? e.message : String(e) };
  }
  if (values.version === true) return { kind: 'version' };
  if (values.help === true) return { kind: 'help', exitCode: 0 };
  if (values.watch === true && values.config === undefined)
    return { kind: 'usage-error', message: '--watch needs --config FILE: it watches that file' };
  return {
    kind: 'gateway',
    configFile: values.config,
    watch: values.watch === true,
    flags: {
      ...(values.grpc === undefined ? {} : { grpc: values.grpc }),
      ...(values.http === undefined ? {} : { http: values.http }),
      ...(values.forward === undefined ? {} : { forward: values.forward }),
      ...(values.verbosity === undefined ? {} : { verbosity: values.verbosity }),
      ...(values.storage === undefined ? {} : { storage: values.storage }),
      ...(values.opamp === undefined ? {} : { opamp: values.opamp }),
    },
  };
}
