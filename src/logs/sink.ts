/**
 * The one contract between the logs pipeline and whatever delivers its bytes. `logs/` never imports
 * `transport/` or `export/`: the export layer implements this interface and fans each body out to
 * its backend queues.
 */

/**
 * Receives encoded log batches from the batch processor.
 *
 * The processor calls `export()` for at most one batch at a time (the spec's "Export will never be
 * called concurrently"): the next call waits until the returned promise settles, or until
 * `exportTimeoutMillis` has passed, when `signal` is aborted and the batch is counted as failed.
 * A sink that only enqueues (returns `void`) lets the processor move on at once, so a slow backend
 * never holds up recording. A sink must not call back into the provider's `forceFlush()`/`shutdown()`
 * from `export()`: those wait for the export in progress.
 */
export interface LogBatchSink {
  /**
   * Takes one `ExportLogsServiceRequest`, protobuf-encoded, holding `recordCount` log records. The
   * bytes are immutable and may be shared by several backends. A throw or rejection counts the batch
   * as failed; the processor does not retry (retries belong to each backend).
   */
  export(body: Uint8Array, recordCount: number, signal: AbortSignal): Promise<void> | void;
  /** Called by `forceFlush()` once the buffer is drained: deliver what the sink still holds. */
  forceFlush?(): Promise<void> | void;
  /** Called once by `shutdown()` after the final drain. */
  shutdown?(): Promise<void> | void;
}
