import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const test = suite('logs/imports');

const srcLogs = fileURLToPath(new URL('../../src/logs/', import.meta.url));

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

test('logs/ never imports transport/ or export/ (the export layer plugs in through LogBatchSink)', () => {
  const files = readdirSync(srcLogs).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 5, 'found the logs sources');
  for (const f of files) {
    for (const spec of importsOf(join(srcLogs, f))) {
      assert.not.match(spec, /\/(transport|export)\//, `${f} imports ${spec}`);
      assert.not.match(spec, /^@opentelemetry\//, `${f} imports ${spec} at runtime`);
    }
  }
});

test('the logs encoder depends on otlp/ and gen/ only', () => {
  const file = fileURLToPath(new URL('../../src/otlp/encode/logs.ts', import.meta.url));
  for (const spec of importsOf(file)) {
    assert.ok(/^(@bufbuild\/|\.\.\/\.\.\/\.\.\/gen\/|\.\.\/types\.js$|\.\.\/wire\.js$|\.\/(common|binary-writer)\.js$)/.test(spec), spec);
  }
});

test.run();
