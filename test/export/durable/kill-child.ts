/**
 * The process `kill.test.ts` kills with SIGKILL: it appends records in a loop and consumes them
 * through reader `r`, printing one line per event once it is safe (stdout is a pipe: synchronous on
 * Linux, so a printed line survives the kill):
 * - `A i,j,…` records whose append resolved (acknowledged: must never be lost);
 * - `R i,j,…` records handed out by a read (in flight: may be read again after a kill);
 * - `K i,j,…` records delivered (printed just before `ack` is called: the cursor may pass them at once);
 * - `D i,j,…` records whose ack resolved (the persisted cursor passed them: never read again);
 * - `X` a record read back with bytes that are not intact.
 * Usage: node --import tsx/esm kill-child.ts DIR SEED FIRST_INDEX FSYNC
 */
import { openDurableLog } from '../../../src/export/durable/log.js';
import type { FsyncPolicy } from '../../../src/export/durable/options.js';
import type { ReadBatch } from '../../../src/export/durable/reader.js';
import { indexOf, prng, record } from './support.js';

const [directory, seedArg, firstArg, fsync] = process.argv.slice(2) as [string, string, string, FsyncPolicy];
const random = prng(Number(seedArg));
const out = (line: string): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const log = await openDurableLog({ directory, maxBytes: 256 * 1024 * 1024, segmentBytes: 256 * 1024, fsync, fsyncIntervalMillis: 20 });
const reader = await log.reader('r');
out('READY');

async function produce(): Promise<void> {
  let next = Number(firstArg);
  const pending = new Set<Promise<void>>();
  for (;;) {
    while (pending.size >= 16) await Promise.race(pending);
    const n = 1 + Math.floor(random() * 8);
    const ids = Array.from({ length: n }, () => next++);
    const p = log
      .append(ids.map((i) => record(i, 50 + Math.floor(random() * 20_000))))
      .then(() => out(`A ${ids.join(',')}`))
      .finally(() => pending.delete(p));
    pending.add(p);
    if (random() < 0.3) await sleep(0);
  }
}

async function consume(): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const deliver = async (batch: ReadBatch, ids: number[]): Promise<void> => {
    await sleep(random() * 4);
    if (random() < 0.1) return reader.nack(batch);
    out(`K ${ids.join(',')}`);
    await reader.ack(batch);
    out(`D ${ids.join(',')}`);
  };
  for (;;) {
    while (inFlight.size >= 3) await Promise.race(inFlight);
    const batch = await reader.read(64 * 1024, 1 + Math.floor(random() * 16));
    if (batch === undefined) {
      await Promise.race([reader.whenReadable(), sleep(5)]);
      continue;
    }
    const ids = batch.records.map(indexOf);
    if (ids.includes(-1)) out('X');
    out(`R ${ids.join(',')}`);
    const p = deliver(batch, ids).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
}

await Promise.all([produce(), consume()]);
