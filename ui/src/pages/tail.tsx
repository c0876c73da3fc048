/** Live tail: the decoded requests, newest first, narrowed by filters. */
import { useState } from 'preact/hooks';
import { bytes, time } from '../format.js';
import { useStore } from '../use-store.js';
import type { RequestEntry } from '../../../src/gateway/inspect/wire.js';

export interface TailFilters {
  signal: string;
  service: string;
  tenant: string;
  metric: string;
  severity: string;
  text: string;
}

/** Whether a request passes the filters (every non-empty one must hold). */
export function passes(r: RequestEntry, f: TailFilters): boolean {
  if (f.signal !== '' && r.signal !== f.signal) return false;
  if (f.service !== '' && !r.services.includes(f.service)) return false;
  if (f.tenant !== '' && r.tenant !== f.tenant) return false;
  if (f.metric !== '' && !(r.signal === 'metrics' && r.names.some((n) => n.toLowerCase().includes(f.metric.toLowerCase())))) return false;
  if (f.severity !== '' && !r.severities.some((s) => s.toUpperCase().startsWith(f.severity))) return false;
  if (f.text !== '' && !r.text.toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

const SHOWN = 200;

export function TailPage() {
  const s = useStore();
  const [f, setF] = useState<TailFilters>({ signal: '', service: '', tenant: '', metric: '', severity: '', text: '' });
  const [paused, setPaused] = useState<RequestEntry[] | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const all = paused ?? s.requests;
  const services = [...new Set(all.flatMap((r) => r.services))].sort();
  const tenants = [...new Set(all.flatMap((r) => (r.tenant === null ? [] : [r.tenant])))].sort();
  const matching = all.filter((r) => passes(r, f));
  const set = (k: keyof TailFilters) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  return (
    <div class="page" data-testid="page-tail">
      <div class="filters">
        <select value={f.signal} onChange={set('signal')} data-testid="filter-signal">
          <option value="">all signals</option>
          <option value="metrics">metrics</option>
          <option value="logs">logs</option>
          <option value="traces">traces</option>
        </select>
        <select value={f.service} onChange={set('service')} data-testid="filter-service">
          <option value="">all services</option>
          {services.map((x) => (
            <option value={x}>{x}</option>
          ))}
        </select>
        <select value={f.tenant} onChange={set('tenant')} data-testid="filter-tenant">
          <option value="">all tenants</option>
          {tenants.map((x) => (
            <option value={x}>{x}</option>
          ))}
        </select>
        <input placeholder="metric name" value={f.metric} onInput={set('metric')} data-testid="filter-metric" />
        <select value={f.severity} onChange={set('severity')} data-testid="filter-severity">
          <option value="">any severity</option>
          {['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].map((x) => (
            <option value={x}>{x}</option>
          ))}
        </select>
        <input placeholder="text" value={f.text} onInput={set('text')} data-testid="filter-text" />
        <button type="button" onClick={() => setPaused(paused === null ? [...s.requests] : null)} data-testid="pause">
          {paused === null ? 'Pause' : 'Resume'}
        </button>
      </div>
      <p class="muted" data-testid="tail-count">
        {matching.length} of {all.length} requests{matching.length > SHOWN ? `, newest ${SHOWN} shown` : ''}
      </p>
      <table class="tail" data-testid="tail">
        <tbody>
          {matching
            .slice(-SHOWN)
            .reverse()
            .map((r) => (
              <>
                <tr class="entry" data-seq={r.seq} data-signal={r.signal} onClick={() => setOpen(open === r.seq ? null : r.seq)}>
                  <td>{time(r.t)}</td>
                  <td>
                    <span class={`sig ${r.signal}`}>{r.signal}</span>
                  </td>
                  <td>{r.services.join(', ') || <span class="muted">no service.name</span>}</td>
                  <td>{r.tenant ?? <span class="muted">–</span>}</td>
                  <td>
                    {r.items} items, {bytes(r.bytes)}, {r.protocol}
                  </td>
                  <td class="small">{r.names.slice(0, 4).join(', ') || r.severities.join(', ')}</td>
                </tr>
                {open === r.seq && (
                  <tr class="detail">
                    <td colSpan={6}>
                      <div class="muted small">to: {r.upstreams.join(', ') || 'no upstream'}</div>
                      <pre>{r.preview.join('\n')}</pre>
                    </td>
                  </tr>
                )}
              </>
            ))}
        </tbody>
      </table>
      {s.requests.length === 0 && (
        <p class="muted">Requests appear here as they arrive while this page is open (decoding starts when a browser connects).</p>
      )}
    </div>
  );
}
