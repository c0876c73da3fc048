import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatReport, runFuzz, TARGETS } from './untrusted.js';

// A seeded short run of the untrusted-input fuzz target (untrusted.ts; the long run is documented there).
const test = suite('fuzz/untrusted');

test('2,000 mutated OTLP bodies: every parser returns or refuses with a typed error, no hang, memory bounded', async () => {
  const report = await runFuzz({ runs: 2000, seed: 1 });
  assert.equal(report.failures.slice(0, 3), [], formatReport(report));
  for (const t of TARGETS) {
    const s = report.targets[t];
    assert.ok(s.inputs > 0, `${t} was fed`);
    assert.ok(s.accepted > 0, `${t} accepted some inputs`);
    // The splice invariant refuses nothing it was given; every other target sees bad input too.
    if (t !== 'splice') assert.ok(s.rejected > 0, `${t} refused some inputs`);
  }
  assert.ok(report.heapAfter - report.heapBefore < 64 * 1024 * 1024, formatReport(report));
});

test.run();
