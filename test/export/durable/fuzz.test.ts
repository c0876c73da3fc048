import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runFuzz } from './fuzz.js';

// A seeded short run of the durable log's fuzz target (fuzz.ts; the long run is documented there).
const test = suite('export/durable/fuzz');

test('2,000 mutated segment files: no throw, no hang, only written records read back, memory bounded', async () => {
  const report = await runFuzz({ runs: 2000, seed: 1 });
  assert.equal(report.failures.slice(0, 3), []);
  assert.ok(report.opened >= 500);
  assert.ok(report.recordsRead > 0, 'some inputs still hold readable records');
  assert.ok(report.heapGrowthBytes < 64 * 1024 * 1024, `heap grew ${report.heapGrowthBytes} bytes`);
});

test.run();
