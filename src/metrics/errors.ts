/**
 * The one error class of the metrics module. It is thrown only while configuration is
 * validated (provider options, views), never from a measurement or a collection.
 */
export class MetricsConfigError extends Error {
  override readonly name = 'MetricsConfigError';
  constructor(
    /** The option at fault, as a path (`views[2].aggregation.boundaries`). */
    readonly field: string,
    /** The offending value (for a rule across fields, the object that breaks it). */
    readonly value: unknown,
    /** What is allowed, in words. */
    readonly allowed: string,
  ) {
    super(`${field}: got ${describe(value)}, want ${allowed}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
