/**
 * The temporality states of one pipeline's upstreams (temporality.ts), and their handover to the
 * next pipeline on a live reload.
 *
 * A state is keyed by its upstream's name and temporality settings: a pipeline built with the
 * previous one (`buildPipeline(config, { previous })`) takes over the state of every upstream whose
 * name and settings did not change, so a reload that leaves an upstream's temporality alone loses
 * no stream (no first point dropped, no delta skipped); a changed setting starts that upstream
 * afresh. The state belongs to the pipeline, not to the upstream (forward/upstream.ts), which is
 * why `temporality` is left out of the upstream's identity (config/upstreams.ts
 * `sameUpstreamConfig`): changing it keeps the upstream's queue and connections.
 *
 * States change while a request's bodies are built, before the request is admitted
 * (forward/ingest.ts): `transactional()` keeps the changes of an accepted request and undoes those
 * of a refused one (stream-table.ts), so that the client's retry converts as the first attempt would
 * have. With durable storage a request is answered once written, after other requests may have
 * converted on the same state: its changes are kept as soon as its bodies are built, and should the
 * write then be refused (storage full or failing), its retry's points are late (dropped): that
 * interval is lost for the converting upstream, never counted twice.
 */
import type { Clock } from '../../../internal/clock.js';
import type { UpstreamConfig } from '../../config/upstreams.js';
import type { Ingest } from '../ingest.js';
import type { ChainTail } from './chain.js';
import { compileTemporality, createTemporalityState } from './temporality.js';
import type { TemporalityState } from './temporality.js';

/** The conversion states of one pipeline. */
export interface Conversions {
  /** The tail of `config`'s chains (its conversion); undefined when it converts nothing. */
  tailFor(config: UpstreamConfig): ChainTail | undefined;
  /** `ingest` with each request's state changes kept when accepted, undone when refused (or thrown). */
  transactional(ingest: Ingest): Ingest;
  /** States by key (upstream name and settings), for the next pipeline. */
  readonly states: ReadonlyMap<string, TemporalityState>;
}

/**
 * The states for `configs` (every forwarding upstream of a config): `previous`'s where the name
 * and settings are the same, new ones otherwise (their horizon is now, by `clock`).
 */
export function createConversions(configs: readonly UpstreamConfig[], previous: Conversions | undefined, clock: Clock): Conversions {
  const states = new Map<string, TemporalityState>();
  const tails = new Map<string, ChainTail>();
  for (const c of configs) {
    if (c.temporality === undefined) continue;
    // Build time only: the settings are frozen config data written in one key order.
    const key = `${c.name}\n${JSON.stringify(c.temporality)}`;
    const state = previous?.states.get(key) ?? createTemporalityState(c.temporality, clock);
    states.set(key, state);
    const t = state.table;
    tails.set(c.name, {
      key: `temporality:${c.name}`,
      step: compileTemporality(state, clock),
      streams: () => ({ tracked: t.count, evictedLru: t.evictedLru, evictedStale: t.evictedStale }),
    });
  }
  const tables = [...states.values()].map((s) => s.table);
  return {
    tailFor: (config) => tails.get(config.name),
    states,
    transactional(ingest) {
      if (tables.length === 0) return ingest;
      return {
        admit: () => ingest.admit(),
        queuedBytes: () => ingest.queuedBytes(),
        get draining() {
          return ingest.draining;
        },
        ingest(request) {
          let outcome: ReturnType<Ingest['ingest']> | undefined;
          try {
            outcome = ingest.ingest(request);
            return outcome;
          } finally {
            // Accepted, or answered later (durable storage: other requests convert meanwhile, on
            // this state, so it cannot be undone after them): kept. Refused now, or thrown: undone.
            const keep = outcome !== undefined && (outcome instanceof Promise || outcome.kind === 'accepted');
            for (const t of tables) {
              if (keep) t.commit();
              else t.rollback();
            }
          }
        },
      };
    },
  };
}
