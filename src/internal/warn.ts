/**
 * Diagnostics for a library: each distinct problem is reported once per process
 * (the hot path may hit the same bad input millions of times), through a sink the
 * application can replace. Never throws.
 */
export type DiagnosticSink = (message: string) => void;

let sink: DiagnosticSink = (message) => {
  process.emitWarning(message, { code: 'OTLP_FANOUT' });
};
const seen = new Set<string>();
// Bounded so that a stream of distinct bad inputs cannot grow memory without limit.
const MAX_KEYS = 1000;

/** Replaces where warnings go (default: `process.emitWarning` with code OTLP_FANOUT). */
export function setDiagnosticSink(next: DiagnosticSink): void {
  sink = next;
}

/**
 * Reports `message` the first time `key` is seen; later calls with the same key are silent.
 * Returns true when it reported.
 */
export function warnOnce(key: string, message: string): boolean {
  if (seen.has(key)) return false;
  if (seen.size >= MAX_KEYS) return false;
  seen.add(key);
  try {
    sink(`otlp-fanout: ${message}`);
  } catch {
    // A broken sink must not break the caller.
  }
  return true;
}

/** The current sink, so a test can restore it. */
export function getDiagnosticSink(): DiagnosticSink {
  return sink;
}

/** Forgets what was reported; for tests. */
export function resetWarnings(): void {
  seen.clear();
}
