/**
 * The agent's instance UID: 16 bytes, a UUIDv7 (OpAMP spec, AgentToServer.instance_uid), kept in
 * a directory so that a restarted agent is the same agent to the server.
 */
import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../internal/atomic-file.js';
import { warnOnce } from '../internal/warn.js';
import { errorText } from './errors.js';

/** The file, inside the state directory, that holds the UID as canonical UUID text. */
export const INSTANCE_UID_FILE = 'opamp-instance-uid';

/**
 * A fresh UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, the version and variant bits,
 * 74 random bits. Time-ordered, so a server's index of agents stays append-mostly.
 */
export function uuidV7(nowMillis: number = Date.now()): Uint8Array {
  const b = new Uint8Array(16);
  randomFillSync(b, 6);
  let ms = Math.max(0, Math.floor(nowMillis));
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  return b;
}

/** `f81d4fae-7dec-11d0-a765-00a0c91e6bf6`: the canonical text of 16 bytes. */
export function formatUuid(uid: Uint8Array): string {
  const hex = Buffer.from(uid.buffer, uid.byteOffset, uid.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 bytes of canonical UUID text, or undefined when `text` is not one. */
export function parseUuid(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (!UUID_TEXT.test(t)) return undefined;
  return new Uint8Array(Buffer.from(t.replaceAll('-', ''), 'hex'));
}

/**
 * The instance UID: without `directory`, a fresh UUIDv7 (a new agent per process); with one, the UID
 * stored in `<directory>/opamp-instance-uid`, created on first use. Never throws: a file that is not
 * a UUID is replaced by a new one, and a directory that cannot be written gives a UID for this
 * process only; either is warned about once (an agent that manages its own identity is better than
 * one that does not start).
 */
export async function instanceUid(directory?: string): Promise<Uint8Array> {
  if (directory === undefined) return uuidV7();
  const file = join(directory, INSTANCE_UID_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      warnOnce(`opamp-uid-read:${file}`, `cannot read ${file} (${errorText(e)}); using a new instance UID`);
  }
  if (text !== undefined) {
    const stored = parseUuid(text);
    if (stored !== undefined) return stored;
    warnOnce(`opamp-uid-corrupt:${file}`, `${file} does not hold a UUID; replacing it with a new instance UID (the OpAMP server sees a new agent)`);
  }
  const uid = uuidV7();
  await storeInstanceUid(directory, uid);
  return uid;
}

/** Writes `uid` as the directory's instance UID (also when the server assigns a new one); warns once on failure. */
export async function storeInstanceUid(directory: string, uid: Uint8Array): Promise<void> {
  const file = join(directory, INSTANCE_UID_FILE);
  try {
    await writeFileAtomic(file, `${formatUuid(uid)}\n`);
  } catch (e) {
    warnOnce(`opamp-uid-write:${file}`, `cannot write ${file} (${errorText(e)}); the instance UID lasts only as long as this process`);
  }
}
