/**
 * Loading the gateway configuration: the YAML file, `${ENV}` expansion, then the
 * command-line flags on top, validated once (gateway-config.ts). The one entry point
 * for the CLI and programmatic users alike.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { GatewayConfigError, show } from './config-error.js';
import { expandEnvDeep } from './env.js';
import { validateGatewayConfig } from './gateway-config.js';
import type { GatewayConfig, GatewayFlags } from './gateway-config.js';
import { errorText } from './values.js';

// The YAML parser is loaded on first use: a gateway started from flags alone never needs it
// (it is ~8 MiB resident). Its Node build is CommonJS, so a synchronous require keeps
// loadGatewayConfig synchronous.
const requireModule = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (requireModule('yaml') as typeof Yaml).parse(text);
}

/** Where the configuration comes from: one of `file`, `text` or `document` (none: an empty document). */
export interface LoadOptions {
  /** A YAML file path; relative TLS file paths in it resolve against its directory. */
  readonly file?: string;
  /**
   * YAML text, instead of `file`: a document that did not come from a file of ours (a remote
   * configuration). Relative file paths in it resolve against `baseDir`.
   */
  readonly text?: string;
  /** What `text` is called in error messages (`remote config from …`). Default `the configuration`. */
  readonly label?: string;
  /** Already parsed document (tests), instead of `file`. */
  readonly document?: unknown;
  readonly flags?: GatewayFlags;
  /** For `${ENV}` expansion. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative file paths when `text` or `document` is given. Default the working directory. */
  readonly baseDir?: string;
}

/** Reads, expands, merges and validates; throws {@link GatewayConfigError}. */
export function loadGatewayConfig(options: LoadOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  let doc: unknown = options.document ?? {};
  let baseDir = options.baseDir ?? process.cwd();
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (e) {
      throw new GatewayConfigError('--config', `cannot read ${show(options.file)}: ${errorText(e)}`);
    }
    doc = yamlDocument(text, options.file);
    baseDir = path.dirname(path.resolve(options.file));
  } else if (options.text !== undefined) {
    doc = yamlDocument(options.text, options.label ?? 'the configuration');
  }
  return validateGatewayConfig(expandEnvDeep(doc, env), options.flags ?? {}, baseDir);
}

/** Parses gateway YAML `text` (an empty document is `{}`); `name` is what errors call it. Throws GatewayConfigError. */
export function yamlDocument(text: string, name: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (e) {
    throw new GatewayConfigError('', `${name} is not valid YAML: ${errorText(e)}`);
  }
}
