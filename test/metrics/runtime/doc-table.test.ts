import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createMeterProvider } from '../../../src/metrics/meter-provider.js';
import { procReaders } from '../../../src/metrics/runtime/procfs.js';
import { registerRuntimeMetrics } from '../../../src/metrics/runtime/runtime-metrics.js';
import { settledHeap } from '../../support/gc.js';
import type { FlatPoint } from '../helpers.js';
import { runtimePoints, sleep } from './helpers.js';

// docs/runtime-metrics.md is the contract: this test parses its table, so the document and
// the code cannot drift apart.

interface Row {
  readonly name: string;
  readonly instrument: string;
  readonly unit: string;
  /** Attribute key, or undefined for none. */
  readonly key: string | undefined;
  /** Allowed values; empty: any. */
  readonly values: readonly string[];
  readonly linuxOnly: boolean;
}

const HEADER = '| name | instrument | unit | attributes | source |';

function parseTable(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.trim() === HEADER);
  if (at < 0) throw new Error(`no "${HEADER}" table in docs/runtime-metrics.md`);
  const rows: Row[] = [];
  // Bounded by the document; the table ends at the first line that is not a row.
  for (let i = at + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const cells = lines[i]!.split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length !== 5) throw new Error(`row ${i + 1} has ${cells.length} cells: ${lines[i]}`);
    const [name, instrument, unit, attributes, source] = cells as [string, string, string, string, string];
    const code = (s: string) => [...s.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
    const attrs = code(attributes);
    rows.push({
      name: code(name)[0] ?? '',
      instrument,
      unit: code(unit)[0] ?? '',
      key: attrs[0],
      values: attrs.slice(1),
      linuxOnly: source.startsWith('Linux only'),
    });
  }
  return rows;
}

/** The OTLP shape each instrument of the table must produce. */
function shapeOf(instrument: string): { kind: FlatPoint['kind']; monotonic: boolean } {
  switch (instrument) {
    case 'Counter':
      return { kind: 'sum', monotonic: true };
    case 'UpDownCounter':
      return { kind: 'sum', monotonic: false };
    case 'Gauge':
      return { kind: 'gauge', monotonic: false };
    case 'Histogram':
      return { kind: 'histogram', monotonic: false };
    default:
      throw new Error(`unknown instrument "${instrument}" in the table`);
  }
}

const test = suite('metrics/runtime: docs/runtime-metrics.md table');
const rows = parseTable(readFileSync(new URL('../../../docs/runtime-metrics.md', import.meta.url), 'utf8'));

test('the table parses into the metrics the brief and semconv 1.45 name', () => {
  assert.ok(rows.length >= 20, `${rows.length} rows`);
  assert.is(new Set(rows.map((r) => r.name)).size, rows.length, 'no duplicate rows');
  for (const r of rows) shapeOf(r.instrument);
});

test('every reported metric is in the table with its instrument, unit and attributes, and vice versa', async () => {
  const provider = createMeterProvider();
  const consumer = provider.registerConsumer({ temporality: 'cumulative' });
  const runtime = registerRuntimeMetrics(provider, { roundMillis: 0, eventLoopDelayResolutionMillis: 5 });
  const server = createServer(); // an active resource
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    settledHeap(); // a GC to report
    let ps = await runtimePoints(consumer);
    for (let i = 0; i < 100 && !ps.some((p) => p.metric === 'v8js.gc.duration'); i++) {
      await sleep(10);
      ps = await runtimePoints(consumer);
    }
    await sleep(30); // delay samples for the interval
    ps = await runtimePoints(consumer);

    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const p of ps) {
      const row = byName.get(p.metric);
      assert.ok(row, `${p.metric} is reported but not in the table`);
      const shape = shapeOf(row.instrument);
      assert.is(p.kind, shape.kind, `${p.metric} kind`);
      assert.is(p.monotonic, shape.monotonic, `${p.metric} monotonic`);
      if (p.kind === 'sum' || p.kind === 'histogram') assert.is(p.temporality, 2, `${p.metric} cumulative`);
      assert.is(p.unit, row.unit, `${p.metric} unit`);
      assert.ok(p.description !== '', `${p.metric} has a description`);
      if (row.key === undefined) {
        assert.is(p.attrs, '', `${p.metric} has no attributes`);
      } else {
        const m = /^([^=,]+)=([^,]*)$/.exec(p.attrs);
        assert.ok(m, `${p.metric} has exactly one attribute: ${p.attrs}`);
        assert.is(m[1], row.key, `${p.metric} attribute key`);
        if (row.values.length > 0) assert.ok(row.values.includes(m[2]!), `${p.metric}: ${m[2]} not in ${row.values.join(', ')}`);
      }
    }
    const proc = procReaders();
    const expected = rows.filter((r) => !r.linuxOnly || (proc.virtualMemory !== undefined && proc.openFileDescriptors !== undefined));
    const reported = new Set(ps.map((p) => p.metric));
    for (const r of expected) assert.ok(reported.has(r.name), `${r.name} is in the table but not reported`);
    // Enumerated attribute values are all reported where the run produces them.
    for (const r of rows.filter((x) => x.name === 'process.cpu.time' || x.name === 'nodejs.eventloop.time')) {
      const seen = ps.filter((p) => p.metric === r.name).map((p) => p.attrs.split('=')[1]);
      assert.equal(seen.sort(), [...r.values].sort(), r.name);
    }
  } finally {
    runtime.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test.run();
