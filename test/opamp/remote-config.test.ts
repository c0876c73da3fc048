/**
 * Remote config: which file of an AgentConfigMap is the gateway's YAML (a step table), and the last
 * applied one stored atomically and read back; a damaged store is ignored with one warning.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AgentRemoteConfigSchema } from '../../gen/opamp/v1/opamp_pb.js';
import { loadRemoteConfig, REMOTE_CONFIG_FILE, selectYamlDocument, storeRemoteConfig } from '../../src/opamp/remote-config.js';
import { getDiagnosticSink, resetWarnings, setDiagnosticSink } from '../../src/internal/warn.js';

const test = suite('opamp/remote-config');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const offer = (files: Record<string, [string | Uint8Array, string]>) =>
  create(AgentRemoteConfigSchema, {
    configHash: new Uint8Array([7, 7]),
    config: {
      configMap: Object.fromEntries(
        Object.entries(files).map(([k, [body, contentType]]) => [k, { body: typeof body === 'string' ? utf8(body) : body, contentType }]),
      ),
    },
  });

const steps: ReadonlyArray<{ name: string; files: Record<string, [string | Uint8Array, string]>; chosen?: string; error?: RegExp }> = [
  { name: 'one unnamed text/yaml file', files: { '': ['a: 1', 'text/yaml'] }, chosen: '' },
  { name: 'one named application/yaml file', files: { 'gateway.yaml': ['a: 1', 'application/yaml'] }, chosen: 'gateway.yaml' },
  { name: 'parameters and case ignored', files: { x: ['a: 1', 'Text/YAML; charset=utf-8'] }, chosen: 'x' },
  { name: 'other types ignored', files: { notes: ['hi', 'text/plain'], conf: ['a: 1', 'text/yaml'] }, chosen: 'conf' },
  { name: 'several YAML files: the unnamed one', files: { '': ['a: 1', 'text/yaml'], extra: ['b: 2', 'application/yaml'] }, chosen: '' },
  {
    name: 'several YAML files, none unnamed: refused',
    files: { a: ['a: 1', 'text/yaml'], b: ['b: 2', 'text/yaml'] },
    error: /expected one YAML file, or one named ""; it holds "a" \(text\/yaml\), "b" \(text\/yaml\)/,
  },
  {
    name: 'no YAML file: refused, naming what is there',
    files: { c: ['{}', 'application/json'], d: ['x', ''] },
    error: /expected one file with content type text\/yaml or application\/yaml; it holds "c" \(application\/json\), "d" \(no content type\)/,
  },
  { name: 'an empty map: refused', files: {}, error: /the config map is empty/ },
  { name: 'not UTF-8: refused', files: { '': [new Uint8Array([0xff, 0xfe]), 'text/yaml'] }, error: /not valid UTF-8/ },
];

for (const s of steps) {
  test(`selectYamlDocument: ${s.name}`, () => {
    const r = selectYamlDocument(offer(s.files));
    if (s.error !== undefined) {
      assert.is(r.kind, 'failed');
      if (r.kind === 'failed') assert.match(r.error, s.error);
    } else {
      assert.is(r.kind, 'ok');
      if (r.kind === 'ok') {
        assert.is(r.document.name, s.chosen);
        assert.is(r.document.body, new TextDecoder().decode(offer(s.files).config!.configMap[s.chosen!]!.body));
        assert.equal([...r.document.hash], [7, 7]);
      }
    }
  });
}

let dir = '';
let warnings: string[] = [];
const sink = getDiagnosticSink();
test.before.each(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'opamp-rc-'));
  warnings = [];
  resetWarnings();
  setDiagnosticSink((m) => warnings.push(m));
});
test.after.each(() => {
  setDiagnosticSink(sink);
  rmSync(dir, { recursive: true, force: true });
});

test('store then load: the same document; nothing stored yet: undefined', async () => {
  assert.is(await loadRemoteConfig(dir), undefined);
  const doc = { body: 'upstreams: {}\n', contentType: 'text/yaml', name: '', hash: new Uint8Array([0xab, 0xcd]) };
  await storeRemoteConfig(dir, doc);
  assert.equal(await loadRemoteConfig(dir), doc);
  await storeRemoteConfig(dir, { ...doc, body: 'b: 2\n', hash: new Uint8Array([1]) });
  assert.is((await loadRemoteConfig(dir))!.body, 'b: 2\n');
  assert.equal(readdirSync(dir), [REMOTE_CONFIG_FILE], 'replaced in place; no temporary file left');
  assert.equal(warnings, []);
});

test('a damaged store is ignored with one warning', async () => {
  for (const text of ['{', '[]', '{"version":2}', '{"version":1,"hash":"zz","name":"","contentType":"","body":""}']) {
    writeFileSync(path.join(dir, REMOTE_CONFIG_FILE), text);
    assert.is(await loadRemoteConfig(dir), undefined, text);
  }
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, /is not a stored remote config; starting without it/);
});

test.run();
