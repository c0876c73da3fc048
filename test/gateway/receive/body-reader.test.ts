/**
 * readBody: the byte caps as received and after gunzip, and how little of a gzip bomb is
 * read and inflated before it is refused.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readBody } from '../../../src/gateway/receive/body-reader.js';

const test = suite('gateway/body');

/**
 * A request stream over `chunks` that counts the bytes pulled. Chunks arrive one per
 * macrotask, as from a socket, so what was pulled when readBody settles is what it asked for.
 */
function request(chunks: () => Iterable<Buffer>, headers: Record<string, string> = {}): { req: IncomingMessage; pulled: () => number } {
  let pulled = 0;
  const stream = Readable.from(
    (async function* () {
      for (const c of chunks()) {
        await new Promise((r) => setImmediate(r));
        pulled += c.length;
        yield c;
      }
    })(),
    { objectMode: false, highWaterMark: 16 * 1024 },
  );
  const req = Object.assign(stream, { headers, complete: false });
  // As on an IncomingMessage: complete once the body has ended, before 'close'.
  stream.once('end', () => (req.complete = true));
  return { req: req as unknown as IncomingMessage, pulled: () => pulled };
}

test('plain and gzip bodies within the cap come back whole', async () => {
  const data = Buffer.from('x'.repeat(10_000));
  const plain = await readBody(request(() => [data.subarray(0, 4000), data.subarray(4000)]).req, false, 10_000);
  assert.is(plain.kind, 'ok');
  if (plain.kind === 'ok') assert.ok(Buffer.from(plain.body).equals(data));
  const zipped = gzipSync(data);
  const gz = await readBody(request(() => [zipped.subarray(0, 7), zipped.subarray(7)]).req, true, 10_000);
  assert.is(gz.kind, 'ok');
  if (gz.kind === 'ok') {
    assert.ok(Buffer.from(gz.body).equals(data));
    assert.is(gz.wireBytes, zipped.length);
  }
});

test('over the cap as received, by Content-Length (nothing read) or while streaming', async () => {
  const declared = request(() => [Buffer.alloc(10)], { 'content-length': '2000' });
  assert.equal(await readBody(declared.req, false, 1000), { kind: 'too_large', stage: 'received' });
  assert.is(declared.pulled(), 0);
  const streamed = await readBody(request(() => Array.from({ length: 5 }, () => Buffer.alloc(300))).req, false, 1000);
  assert.equal(streamed, { kind: 'too_large', stage: 'received' });
});

test('a gzip bomb is refused after about the cap, without reading or inflating the rest', async () => {
  // 1000 members of 16 MiB of zeros: 16 GiB inflated, pulled lazily.
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024));
  const bomb = request(function* () {
    for (let i = 0; i < 1000; i++) yield member;
  });
  const result = await readBody(bomb.req, true, 1024 * 1024);
  const pulledAtRefusal = bomb.pulled();
  bomb.req.destroy();
  assert.equal(result, { kind: 'too_large', stage: 'decompressed' });
  assert.ok(pulledAtRefusal < 10 * member.length, `pulled ${pulledAtRefusal} bytes (${(pulledAtRefusal / member.length).toFixed(1)} members)`);
});

test('bad gzip and an aborted client', async () => {
  const bad = await readBody(request(() => [Buffer.from('not gzip at all')]).req, true, 1000);
  assert.is(bad.kind, 'bad_gzip');
  const { req } = request(function* () {
    yield Buffer.alloc(10);
  });
  const pending = readBody(req, false, 1000);
  req.destroy(new Error('client gone'));
  assert.equal(await pending, { kind: 'aborted' });
});

test.run();
