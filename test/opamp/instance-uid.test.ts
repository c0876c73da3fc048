/**
 * The instance UID: a UUIDv7 laid out as RFC 9562 says, kept in the state directory and stable
 * across restarts, replaced (with one warning) when the file is damaged.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { formatUuid, INSTANCE_UID_FILE, instanceUid, parseUuid, uuidV7 } from '../../src/opamp/instance-uid.js';
import { getDiagnosticSink, resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

const test = suite('opamp/instance-uid');
let dir = '';
let warnings: string[] = [];
const sink = getDiagnosticSink();
test.before.each(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'opamp-uid-'));
  warnings = [];
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});
test.after.each(() => {
  setDiagnosticSink(sink);
  rmSync(dir, { recursive: true, force: true });
});

test('uuidV7: 48-bit millisecond timestamp, version 7, RFC variant, random rest', () => {
  const ms = 0x0123_4567_89ab;
  const a = uuidV7(ms);
  const b = uuidV7(ms);
  assert.is(a.length, 16);
  assert.equal([...a.subarray(0, 6)], [0x01, 0x23, 0x45, 0x67, 0x89, 0xab]);
  assert.is(a[6]! >> 4, 7, 'version');
  assert.is(a[8]! >> 6, 0b10, 'variant');
  assert.not.equal([...a], [...b], 'random bits differ');
  assert.ok(formatUuid(uuidV7()) > formatUuid(uuidV7(ms)), 'time-ordered');
});

test('formatUuid / parseUuid: canonical text, round trip, refusals', () => {
  const uid = new Uint8Array([0xf8, 0x1d, 0x4f, 0xae, 0x7d, 0xec, 0x11, 0xd0, 0xa7, 0x65, 0x00, 0xa0, 0xc9, 0x1e, 0x6b, 0xf6]);
  assert.is(formatUuid(uid), 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
  assert.equal([...parseUuid('F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6\n')!], [...uid]);
  for (const bad of ['', 'f81d4fae7dec11d0a76500a0c91e6bf6', 'f81d4fae-7dec-11d0-a765-00a0c91e6bf', 'x81d4fae-7dec-11d0-a765-00a0c91e6bf6']) {
    assert.is(parseUuid(bad), undefined, bad);
  }
});

test('without a directory: a new UID per call', async () => {
  assert.not.equal([...(await instanceUid())], [...(await instanceUid())]);
});

test('with a directory: created once, then the same across restarts', async () => {
  const first = await instanceUid(dir);
  const again = await instanceUid(dir);
  assert.equal([...again], [...first]);
  assert.is(readFileSync(path.join(dir, INSTANCE_UID_FILE), 'utf8'), `${formatUuid(first)}\n`);
  assert.equal(readdirSync(dir), [INSTANCE_UID_FILE], 'no temporary file left');
  assert.equal(warnings, []);
});

test('a nested directory that does not exist yet is created', async () => {
  const nested = path.join(dir, 'a', 'b');
  const uid = await instanceUid(nested);
  assert.equal([...(await instanceUid(nested))], [...uid]);
});

test('a damaged file is replaced by a new UID, with one warning', async () => {
  writeFileSync(path.join(dir, INSTANCE_UID_FILE), 'not a uuid');
  const uid = await instanceUid(dir);
  assert.is(uid.length, 16);
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /does not hold a UUID; replacing it/);
  assert.equal([...(await instanceUid(dir))], [...uid], 'the replacement is stored');
});

test('a directory that cannot be written: a UID for this process, one warning', async () => {
  if (process.getuid?.() === 0) return; // root writes anywhere
  chmodSync(dir, 0o500);
  try {
    const a = await instanceUid(dir);
    const b = await instanceUid(dir);
    assert.is(a.length, 16);
    assert.not.equal([...a], [...b]);
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /lasts only as long as this process/);
  } finally {
    chmodSync(dir, 0o700);
  }
});

test.run();
