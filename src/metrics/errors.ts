/**
 * The one error class of the metrics module. It is thrown only while configuration is
 * validated (provider options, views), never from a measurement or a collection.
 */
export class MetricsConfigError extends Error {
  override readonly name = 'MetricsConfigError';
  constructor(
    /** The option at fault, as a path (`views[2].aggregation.boundaries`). */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
