/**
 * Health as the agent reports it: a tree (the agent → its receivers and upstreams → ...) turned
 * into OpAMP's ComponentHealth, with every node's health rolled up from its children, so the server
 * sees at the top whether anything below is unhealthy.
 */
import { create } from '@bufbuild/protobuf';
import { ComponentHealthSchema } from '../../gen/opamp/v1/opamp_pb.js';
import type { ComponentHealth } from '../../gen/opamp/v1/opamp_pb.js';

/** One component's health, as the caller's `health()` callback describes it. */
export interface ComponentHealthReport {
  /** This component's own health, before its children are rolled in. Default true. */
  readonly healthy?: boolean;
  /** Free text (`serving`, `retrying`, `draining`); OpAMP leaves its values to the agent. Default empty. */
  readonly status?: string;
  /** The last error, when unhealthy. */
  readonly lastError?: string;
  /** When the component started, Unix nanoseconds; 0 or absent when it is not running. */
  readonly startTimeUnixNano?: bigint;
  /**
   * When `status` was observed, Unix nanoseconds. Set it when the status changes, not on every call:
   * an unchanged report is not sent again, and a timestamp that moves every time defeats that.
   */
  readonly statusTimeUnixNano?: bigint;
  /** Sub-components by name (`receivers`, `upstreams`, then one per receiver or upstream). */
  readonly components?: Readonly<Record<string, ComponentHealthReport>>;
}

/**
 * The ComponentHealth message of `report`, rolled up: a node is healthy when it and every child is;
 * an unhealthy node without its own `lastError` takes `<child>: <child's lastError>` of its first
 * unhealthy child by name, so the top level says where to look. Children are visited in name order,
 * so equal reports encode to equal bytes (unchanged health is not sent again).
 */
export function componentHealth(report: ComponentHealthReport): ComponentHealth {
  const children: Record<string, ComponentHealth> = {};
  let healthy = report.healthy ?? true;
  let lastError = report.lastError ?? '';
  for (const name of Object.keys(report.components ?? {}).sort()) {
    const child = componentHealth(report.components![name]!);
    children[name] = child;
    if (!child.healthy) {
      if (lastError === '') lastError = child.lastError === '' ? `${name}: unhealthy` : `${name}: ${child.lastError}`;
      healthy = false;
    }
  }
  return create(ComponentHealthSchema, {
    healthy,
    status: report.status ?? '',
    lastError,
    startTimeUnixNano: report.startTimeUnixNano ?? 0n,
    statusTimeUnixNano: report.statusTimeUnixNano ?? 0n,
    componentHealthMap: children,
  });
}
