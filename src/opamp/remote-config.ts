/**
 * Remote configuration: which file of the server's AgentConfigMap is ours, and the last applied
 * one kept on disk, so that a restart without the server comes back with it (issue 12).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentRemoteConfig } from '../../gen/opamp/v1/opamp_pb.js';
import { writeFileAtomic } from '../internal/atomic-file.js';
import { warnOnce } from '../internal/warn.js';
import { errorText } from './errors.js';

/** A remote configuration document handed to `onRemoteConfig`. */
export interface RemoteConfigDocument {
  /** The YAML text (the file's bytes as UTF-8). */
  readonly body: string;
  /** The file's content type as the server sent it (`text/yaml`, `application/yaml; charset=utf-8`). */
  readonly contentType: string;
  /** Its name in the AgentConfigMap (`""` for a single unnamed file). */
  readonly name: string;
  /** AgentRemoteConfig.config_hash: what RemoteConfigStatus reports back. */
  readonly hash: Uint8Array;
}

/** What applying a document came to; `error` goes to the server as RemoteConfigStatus.error_message. */
export type RemoteConfigResult = { readonly applied: true } | { readonly applied: false; readonly error: string };

/** The media types taken as YAML (issue 12), compared without parameters and case. */
export const YAML_CONTENT_TYPES: readonly string[] = Object.freeze(['text/yaml', 'application/yaml']);

/**
 * The YAML document of an offer. The gateway's configuration is one YAML document, so the map must
 * hold exactly one file whose content type is YAML, under any name (the spec lets a single file
 * have the empty name; servers also use `config.yaml` and the like). With several YAML files the one
 * named `""` is taken; without it the offer is refused rather than guessed at, as is one with none.
 * Files of other types are ignored. The body must be UTF-8.
 */
export function selectYamlDocument(offer: AgentRemoteConfig): { kind: 'ok'; document: RemoteConfigDocument } | { kind: 'failed'; error: string } {
  const files = offer.config?.configMap ?? {};
  const names = Object.keys(files).sort();
  const yaml = names.filter((n) => YAML_CONTENT_TYPES.includes(mediaType(files[n]!.contentType)));
  let name: string;
  if (yaml.length === 1) name = yaml[0]!;
  else if (yaml.length > 1 && yaml.includes('')) name = '';
  else {
    const seen =
      names.length === 0
        ? 'the config map is empty'
        : `it holds ${names.map((n) => `${JSON.stringify(n)} (${files[n]!.contentType || 'no content type'})`).join(', ')}`;
    return {
      kind: 'failed',
      error:
        yaml.length === 0
          ? `expected one file with content type ${YAML_CONTENT_TYPES.join(' or ')}; ${seen}`
          : `expected one YAML file, or one named ""; ${seen}`,
    };
  }
  const file = files[name]!;
  let body: string;
  try {
    body = new TextDecoder('utf-8', { fatal: true }).decode(file.body);
  } catch {
    return { kind: 'failed', error: `file ${JSON.stringify(name)} is not valid UTF-8` };
  }
  return { kind: 'ok', document: { body, contentType: file.contentType, name, hash: offer.configHash } };
}

function mediaType(value: string): string {
  return value.split(';', 1)[0]!.trim().toLowerCase();
}

/** The file, inside the state directory, holding the last applied remote config. */
export const REMOTE_CONFIG_FILE = 'opamp-remote-config.json';

/** On-disk form: JSON, versioned, the hash in hex; readable by an operator who wonders what runs. */
interface Stored {
  readonly version: 1;
  readonly hash: string;
  readonly name: string;
  readonly contentType: string;
  readonly body: string;
}

/**
 * The last applied remote config stored in `directory`, or undefined when there is none. A file
 * that cannot be read or is not ours is warned about once and ignored: the agent then starts on its
 * local config, as it would without a stored one.
 */
export async function loadRemoteConfig(directory: string): Promise<RemoteConfigDocument | undefined> {
  const file = join(directory, REMOTE_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      warnOnce(`opamp-config-read:${file}`, `cannot read ${file} (${errorText(e)}); starting without the stored remote config`);
    return undefined;
  }
  let stored: Partial<Stored> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) stored = parsed as Partial<Stored>;
  } catch {
    // Reported below.
  }
  if (
    stored === undefined ||
    stored.version !== 1 ||
    typeof stored.hash !== 'string' ||
    !/^(?:[0-9a-f]{2})*$/.test(stored.hash) ||
    typeof stored.name !== 'string' ||
    typeof stored.contentType !== 'string' ||
    typeof stored.body !== 'string'
  ) {
    warnOnce(`opamp-config-corrupt:${file}`, `${file} is not a stored remote config; starting without it`);
    return undefined;
  }
  return { body: stored.body, contentType: stored.contentType, name: stored.name, hash: new Uint8Array(Buffer.from(stored.hash, 'hex')) };
}

/** Stores `document` as the last applied remote config (atomically); warns once and carries on when it cannot. */
export async function storeRemoteConfig(directory: string, document: RemoteConfigDocument): Promise<void> {
  const file = join(directory, REMOTE_CONFIG_FILE);
  const stored: Stored = {
    version: 1,
    hash: Buffer.from(document.hash.buffer, document.hash.byteOffset, document.hash.byteLength).toString('hex'),
    name: document.name,
    contentType: document.contentType,
    body: document.body,
  };
  try {
    await writeFileAtomic(file, `${JSON.stringify(stored, null, 2)}\n`);
  } catch (e) {
    warnOnce(`opamp-config-write:${file}`, `cannot write ${file} (${errorText(e)}); a restart without the OpAMP server starts on the local config`);
  }
}
