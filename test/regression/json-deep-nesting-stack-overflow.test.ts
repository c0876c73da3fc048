/**
 * An OTLP/JSON body nested a few thousand AnyValues deep made decodeJson throw a RangeError
 * (stack overflow) instead of an OtlpJsonError: fromJson stops at its recursion limit, but the
 * walk that then names the offending value (json.ts `locate`) had no limit. Found by
 * test/fuzz/untrusted.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeJson, OtlpJsonError } from '../../src/otlp/json.js';
import { signalSchemas } from '../../src/otlp/signal-schemas.js';

const test = suite('regression/json-deep-nesting-stack-overflow');

/** A logs request whose resource attribute holds AnyValues nested `depth` deep (array and kvlist in turn). */
function deep(depth: number): string {
  let v = '{"stringValue":"x"}';
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? `{"arrayValue":{"values":[${v}]}}` : `{"kvlistValue":{"values":[{"key":"k","value":${v}}]}}`;
  return `{"resourceLogs":[{"resource":{"attributes":[{"key":"deep","value":${v}}]}}]}`;
}

test('a document nested thousands deep is refused with an OtlpJsonError naming the depth', () => {
  for (const depth of [40, 3000, 20_000]) {
    try {
      decodeJson(signalSchemas.logs.request, deep(depth));
      assert.unreachable(`depth ${depth} was accepted`);
    } catch (e) {
      assert.instance(e, OtlpJsonError, `depth ${depth}: ${(e as Error).name}`);
      assert.match((e as OtlpJsonError).message, 'nested more than 100 deep');
      assert.ok((e as OtlpJsonError).path.startsWith('$.resourceLogs[0].resource.attributes[0].value.'));
    }
  }
});

test('nesting within the limit still decodes', () => {
  const request = decodeJson(signalSchemas.logs.request, deep(30));
  assert.is(request.resourceLogs[0]!.resource!.attributes[0]!.key, 'deep');
});

test.run();
