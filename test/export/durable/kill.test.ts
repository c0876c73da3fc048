import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { openDurableLog } from '../../../src/export/durable/log.js';
import type { FsyncPolicy } from '../../../src/export/durable/options.js';
import { indexOf, prng, tempDir } from './support.js';

// Real kill -9: a child appends and consumes (kill-child.ts), the parent SIGKILLs it at a seeded
// random moment, again and again on the same directory, then reads what is left and checks:
// - every acknowledged append is delivered (handed to `ack` before a kill, or read after the last one);
// - a record whose ack resolved (persisted cursor passed it) is never read again;
// - records read but not yet acknowledged at a kill may come again: counted as duplicates;
// - every record read back is intact and was appended (none invented);
// - a kill never damages a record (it may leave a torn tail, which was never acknowledged).
// DLOG_KILL_RUNS (default 20) and DLOG_KILL_SEED (default 11) change the run.
const test = suite('export/durable/kill -9');
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const RUNS = Number(process.env['DLOG_KILL_RUNS'] ?? 20);
const SEED = Number(process.env['DLOG_KILL_SEED'] ?? 11);

interface RunLines {
  acked: number[];
  read: number[];
  delivered: number[];
  handed: number[];
  damaged: number;
}

function runChild(directory: string, seed: number, first: number, fsync: FsyncPolicy, killAfterMs: number): Promise<RunLines> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', resolve(here, 'kill-child.ts'), directory, String(seed), String(first), fsync], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    let errors = '';
    let killer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      text += chunk;
      if (killer === undefined && text.includes('READY\n')) killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (killer !== undefined) clearTimeout(killer);
      if (signal !== 'SIGKILL') return reject(new Error(`child exited by itself (${code}): ${errors}`));
      const lines: RunLines = { acked: [], read: [], delivered: [], handed: [], damaged: 0 };
      // Only whole lines count: the kill may cut the last one.
      for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
        const ids = line
          .slice(2)
          .split(',')
          .filter((x) => x !== '')
          .map(Number);
        if (line.startsWith('A ')) lines.acked.push(...ids);
        else if (line.startsWith('R ')) lines.read.push(...ids);
        else if (line.startsWith('D ')) lines.delivered.push(...ids);
        else if (line.startsWith('K ')) lines.handed.push(...ids);
        else if (line === 'X') lines.damaged++;
      }
      resolvePromise(lines);
    });
  });
}

test(`${RUNS} kills at random moments: nothing acknowledged lost, nothing delivered repeated`, async () => {
  const dir = tempDir('dlog-kill-');
  try {
    const random = prng(SEED);
    const policies: FsyncPolicy[] = ['interval', 'never', 'always'];
    const acked = new Set<number>();
    const deliveredIn = new Map<number, number>(); // record → run whose persisted cursor passed it
    const handed = new Set<number>(); // records handed to ack() (delivered; the cursor may have passed them)
    const readIn = new Map<number, number>(); // record → last run that read it
    let repeatsAfterDelivery = 0;
    let inFlightRepeats = 0;
    let damaged = 0;
    let reads = 0;
    for (let run = 0; run < RUNS; run++) {
      const lines = await runChild(dir.path, SEED * 1000 + run, run * 1_000_000, policies[run % 3]!, 20 + Math.floor(random() * 300));
      damaged += lines.damaged;
      for (const i of lines.acked) acked.add(i);
      for (const i of lines.read) {
        reads++;
        if (deliveredIn.has(i)) repeatsAfterDelivery++;
        else if ((readIn.get(i) ?? run) < run) inFlightRepeats++;
        readIn.set(i, run);
      }
      for (const i of lines.delivered) deliveredIn.set(i, run);
      for (const i of lines.handed) handed.add(i);
    }
    const log = await openDurableLog({ directory: dir.path, maxBytes: 256 * 1024 * 1024, segmentBytes: 256 * 1024 });
    const stats = log.stats();
    const reader = await log.reader('r');
    const finalRead: number[] = [];
    for (;;) {
      const b = await reader.read(1024 * 1024, 1000);
      if (b === undefined) break;
      for (const r of b.records) finalRead.push(indexOf(r));
      await reader.ack(b);
    }
    await log.close();
    for (const i of finalRead) {
      if (deliveredIn.has(i)) repeatsAfterDelivery++;
      else if (readIn.has(i)) inFlightRepeats++;
    }
    const got = new Set([...handed, ...finalRead]);
    const lost = [...acked].filter((i) => !got.has(i));
    const invented = finalRead.filter((i) => i < 0 || i % 1_000_000 > 10_000_000);
    const unackedStored = finalRead.filter((i) => !acked.has(i)).length;
    console.log(
      `  kill -9 × ${RUNS} (seed ${SEED}): ${acked.size} acknowledged, ${reads} reads, ${handed.size} delivered before a kill, ` +
        `${finalRead.length} read after; in-flight repeats ${inFlightRepeats}; repeats after delivery ${repeatsAfterDelivery}; ` +
        `stored but never acknowledged ${unackedStored}; torn tails ${stats.tornTails} (${stats.tornBytes} bytes)`,
    );
    assert.ok(acked.size > RUNS * 10, 'the children got work done');
    assert.equal(lost.slice(0, 10), [], `${lost.length} acknowledged records lost`);
    assert.is(repeatsAfterDelivery, 0, 'a record whose ack resolved came back');
    // What a kill can repeat is what was in flight: 3 batches of at most 16 records each.
    assert.ok(inFlightRepeats <= RUNS * 3 * 16, `${inFlightRepeats} repeats`);
    assert.is(damaged, 0);
    assert.equal(invented, []);
    assert.is(new Set(finalRead).size, finalRead.length, 'the final read has no duplicates');
    assert.is(stats.corruptRecords, 0);
    assert.is(stats.corruptSegments, 0);
  } finally {
    dir.remove();
  }
});

test.run();
