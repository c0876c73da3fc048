/** `--watch`'s file watch, on a real directory: bursts debounced, saves by rename, files briefly missing or empty. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { watchFile } from '../../../src/gateway/config/watch-file.js';

const test = suite('gateway/config watch-file');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEBOUNCE = 40;
/** Long enough for the debounce and fs.watch's own latency. */
const SETTLE = 250;

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-watch-file-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, 'drainTimeout: 1s\n');
  let changes = 0;
  const watch = watchFile(file, () => changes++, { debounceMillis: DEBOUNCE, missingMillis: 2000 });
  return {
    dir,
    file,
    changes: () => changes,
    stop: () => watch.close(),
    close() {
      watch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a burst of writes is one change; a write of the same contents, or of another file, none', async () => {
  const s = setup();
  try {
    writeFileSync(s.file, 'drainTimeout: 2s\n');
    appendFileSync(s.file, '# more\n');
    appendFileSync(s.file, '# and more\n');
    await sleep(SETTLE);
    assert.is(s.changes(), 1);
    writeFileSync(s.file, 'drainTimeout: 2s\n# more\n# and more\n');
    writeFileSync(path.join(s.dir, 'other.yaml'), 'x: 1\n');
    await sleep(SETTLE);
    assert.is(s.changes(), 1);
  } finally {
    s.close();
  }
});

test("an editor's save (a new file renamed over the old one) is a change", async () => {
  const s = setup();
  try {
    writeFileSync(`${s.file}.swp`, 'drainTimeout: 3s\n');
    renameSync(`${s.file}.swp`, s.file);
    await sleep(SETTLE);
    assert.is(s.changes(), 1);
  } finally {
    s.close();
  }
});

test('a file briefly missing or empty is waited for, then its new contents are one change', async () => {
  const s = setup();
  try {
    rmSync(s.file);
    await sleep(SETTLE);
    assert.is(s.changes(), 0, 'missing: nothing to load');
    writeFileSync(s.file, '');
    await sleep(SETTLE);
    assert.is(s.changes(), 0, 'empty: half-written');
    writeFileSync(s.file, 'drainTimeout: 4s\n');
    await sleep(SETTLE);
    assert.is(s.changes(), 1);
  } finally {
    s.close();
  }
});

test('close() stops it', async () => {
  const s = setup();
  try {
    s.stop();
    writeFileSync(s.file, 'drainTimeout: 5s\n');
    await sleep(SETTLE);
    assert.is(s.changes(), 0);
  } finally {
    s.close();
  }
});

test.run();
