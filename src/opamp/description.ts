/**
 * The AgentDescription: identifying attributes (what tells this agent from others) and the rest,
 * split as the spec recommends (AgentDescription Message): `service.*` identify, `host.*` and
 * `os.*` describe.
 */
import { create } from '@bufbuild/protobuf';
import { AgentDescriptionSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type { AgentDescription } from '../../gen/opamp/v1/opamp_pb.js';
import { KeyValueSchema } from '../../gen/opamp/v1/anyvalue_pb.js';
import type { AnyValue, KeyValue } from '../../gen/opamp/v1/anyvalue_pb.js';
import type { ResolvedOpampClientOptions } from './options.js';

/** The description of an agent whose instance UID reads `instanceUid` (the default `service.instance.id`). */
export function agentDescription(d: ResolvedOpampClientOptions['description'], instanceUid: string): AgentDescription {
  return create(AgentDescriptionSchema, {
    identifyingAttributes: [
      keyValue('service.name', d.serviceName),
      keyValue('service.version', d.serviceVersion),
      keyValue('service.instance.id', d.instanceId ?? instanceUid),
    ],
    nonIdentifyingAttributes: [
      keyValue('host.name', d.hostName),
      keyValue('os.type', d.osType),
      ...Object.keys(d.attributes)
        .sort()
        .map((k) => keyValue(k, d.attributes[k]!)),
    ],
  });
}

function keyValue(key: string, value: string | number | boolean): KeyValue {
  let v: AnyValue['value'];
  if (typeof value === 'string') v = { case: 'stringValue', value };
  else if (typeof value === 'boolean') v = { case: 'boolValue', value };
  else if (Number.isSafeInteger(value)) v = { case: 'intValue', value: BigInt(value) };
  else v = { case: 'doubleValue', value };
  return create(KeyValueSchema, { key, value: { value: v } });
}
