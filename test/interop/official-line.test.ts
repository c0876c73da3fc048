/**
 * Which official OpenTelemetry JS line the interop suite loaded (official.ts). With
 * OTLP_FANOUT_OTEL_PEERS set, every package the peer folder pins must resolve from that folder at
 * exactly the pinned version: a package missing there would silently resolve from the repository's
 * node_modules (the 2.x line) and the suite would test the wrong peer.
 */
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { line, loadedPackage, peersDir } from './official.js';

const test = suite('interop/official line');

if (peersDir === undefined) {
  test('default: the 2.x line of the devDependencies', () => {
    assert.is(line.major, 2);
    for (const name of [
      '@opentelemetry/sdk-metrics',
      '@opentelemetry/sdk-logs',
      '@opentelemetry/sdk-trace-base',
      '@opentelemetry/otlp-transformer',
    ]) {
      const p = loadedPackage(name);
      assert.ok(p.dir.endsWith(join('node_modules', ...name.split('/'))), `${name} from ${p.dir}`);
    }
  });
} else {
  const dir = peersDir;
  const pins = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;

  test(`peers from ${dir}: the 3.x line`, () => {
    assert.is(line.major, 3);
    assert.is(loadedPackage('@opentelemetry/sdk-trace').version.split('.')[0], '3');
  });

  test('every pinned peer resolves from the peer folder at its pinned version', () => {
    const names = Object.keys(pins);
    assert.ok(names.length >= 16, names.join(' '));
    for (const name of names) {
      const p = loadedPackage(name);
      assert.ok(p.dir.startsWith(join(dir, 'node_modules') + sep), `${name} resolved from ${p.dir}, outside ${dir}`);
      assert.is(p.version, pins[name], name);
    }
  });
}

test.run();
