/** Traces: recent traces (spans grouped by trace id) and the picked one as a waterfall. */
import { useState } from 'preact/hooks';
import { attrsText, ms, time } from '../format.js';
import { useStore } from '../use-store.js';
import type { SpanEntry } from '../../../src/gateway/inspect/wire.js';

interface Trace {
  readonly id: string;
  readonly spans: SpanEntry[];
  start: number;
  end: number;
  errors: number;
}

/** Spans in waterfall order: each parent followed by its children (by start), with their depth. */
function ordered(spans: readonly SpanEntry[]): { span: SpanEntry; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, SpanEntry[]>();
  for (const s of spans) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: { span: SpanEntry; depth: number }[] = [];
  const visit = (parent: string, depth: number): void => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.start - b.start)) {
      out.push({ span: s, depth });
      if (depth < 50) visit(s.spanId, depth + 1);
    }
  };
  visit('', 0);
  return out;
}

export function TracesPage() {
  const s = useStore();
  const [picked, setPicked] = useState<string | null>(null);
  const traces = new Map<string, Trace>();
  for (const sp of s.spans) {
    let t = traces.get(sp.traceId);
    if (t === undefined) traces.set(sp.traceId, (t = { id: sp.traceId, spans: [], start: sp.start, end: sp.end, errors: 0 }));
    t.spans.push(sp);
    t.start = Math.min(t.start, sp.start);
    t.end = Math.max(t.end, sp.end);
    if (sp.status === 2) t.errors++;
  }
  const list = [...traces.values()].sort((a, b) => b.start - a.start).slice(0, 200);
  const trace = (picked === null ? undefined : traces.get(picked)) ?? list[0];
  const span = Math.max(trace === undefined ? 1 : trace.end - trace.start, 0.001);
  return (
    <div class="page traces" data-testid="page-traces">
      <aside>
        <h3>Recent traces ({traces.size})</h3>
        <ul data-testid="trace-list">
          {list.map((t) => {
            const root = ordered(t.spans)[0]?.span;
            return (
              <li class={t === trace ? 'active' : ''} data-trace={t.id}>
                <button type="button" class="pick" onClick={() => setPicked(t.id)}>
                  <div>
                    {root?.name ?? t.id.slice(0, 8)} <span class="muted small">{root?.service}</span>
                  </div>
                  <div class="muted small">
                    {time(t.start)} · {ms(t.end - t.start)} · {t.spans.length} spans{t.errors > 0 ? ` · ${t.errors} errors` : ''}
                  </div>
                </button>
              </li>
            );
          })}
        </ul>
        {traces.size === 0 && <p class="muted">Spans appear as requests arrive while this page is open.</p>}
      </aside>
      <section>
        {trace !== undefined && (
          <>
            <h2>
              trace <code>{trace.id}</code>
            </h2>
            <div class="waterfall" data-testid="waterfall">
              {ordered(trace.spans).map(({ span: sp, depth }) => (
                <div class="row" title={attrsText(sp.attrs)} data-span={sp.spanId}>
                  <div class="label" style={{ paddingLeft: `${depth * 14}px` }}>
                    {sp.name} <span class="muted small">{sp.service}</span>
                  </div>
                  <div class="lane">
                    <div
                      class={`bar ${sp.status === 2 ? 'error' : ''}`}
                      style={{ left: `${((sp.start - trace.start) / span) * 100}%`, width: `${Math.max(0.3, ((sp.end - sp.start) / span) * 100)}%` }}
                    />
                  </div>
                  <div class="dur">{ms(sp.end - sp.start)}</div>
                </div>
              ))}
            </div>
          </>
        )}
      </section>
    </div>
  );
}
