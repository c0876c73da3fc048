/**
 * Metric explorer: the metrics seen in recent traffic; for the one picked, its series (distinct
 * attribute sets) and a chart of its points, one line per series or per value of an attribute.
 */
import { useState } from 'preact/hooks';
import { Chart } from '../chart.js';
import { attrsText, num, time } from '../format.js';
import { useStore } from '../use-store.js';
import type { PointEntry } from '../../../src/gateway/inspect/wire.js';

/** Pseudo attributes to split by besides the points' own. */
const SERVICE = 'service.name (resource)';
const TENANT = 'tenant';

function splitValue(p: PointEntry, key: string): string {
  if (key === SERVICE) return p.service;
  if (key === TENANT) return p.tenant ?? '–';
  if (key === '') return attrsText(p.attrs) || '(no attributes)';
  const v = p.attrs[key];
  return v === undefined ? '(none)' : String(v);
}

/** Most points drawn: the newest timestamps. */
const MAX_TIMES = 2000;

export function MetricsPage() {
  const s = useStore();
  const metrics = new Map<string, { type: string; unit: string; monotonic: boolean; count: number }>();
  for (const p of s.points) {
    const m = metrics.get(p.metric);
    if (m === undefined) metrics.set(p.metric, { type: p.type, unit: p.unit, monotonic: p.monotonic, count: 1 });
    else m.count++;
  }
  const names = [...metrics.keys()].sort();
  const [picked, setPicked] = useState<string | null>(null);
  const [split, setSplit] = useState('');
  const name = picked !== null && metrics.has(picked) ? picked : (names[0] ?? null);
  const points = name === null ? [] : s.points.filter((p) => p.metric === name);
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.attrs)))].sort();
  const series = new Map<string, { last: PointEntry; count: number }>();
  for (const p of points) {
    const k = attrsText(p.attrs) || '(no attributes)';
    const e = series.get(`${p.service}\u0000${k}`);
    if (e === undefined) series.set(`${p.service}\u0000${k}`, { last: p, count: 1 });
    else {
      e.last = p;
      e.count++;
    }
  }
  // One x per distinct timestamp; per group, the sum of its points at that time.
  const times = [...new Set(points.map((p) => p.t))].sort((a, b) => a - b).slice(-MAX_TIMES);
  const index = new Map(times.map((t, i) => [t, i]));
  const groups = new Map<string, (number | null)[]>();
  for (const p of points) {
    const i = index.get(p.t);
    if (i === undefined) continue;
    const g = splitValue(p, split);
    let values = groups.get(g);
    if (values === undefined) groups.set(g, (values = new Array<number | null>(times.length).fill(null)));
    values[i] = (values[i] ?? 0) + p.v;
  }
  const info = name === null ? undefined : metrics.get(name);
  return (
    <div class="page metrics" data-testid="page-metrics">
      <aside>
        <h3>Metrics ({names.length})</h3>
        {names.length === 0 && <p class="muted">Metrics appear as requests arrive while this page is open.</p>}
        <ul data-testid="metric-list">
          {names.map((n) => (
            <li class={n === name ? 'active' : ''} data-metric={n}>
              <button type="button" class="pick" onClick={() => setPicked(n)}>
                {n}
                <span class="muted small"> {metrics.get(n)!.type}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <section>
        {name !== null && info !== undefined && (
          <>
            <h2 data-testid="metric-name">{name}</h2>
            <p class="muted">
              {info.type}
              {info.monotonic ? ' (monotonic)' : ''}
              {info.unit === '' ? '' : `, unit ${info.unit}`}, {num(info.count)} points in recent traffic, {series.size} series
              {info.type === 'histogram' || info.type === 'exponentialHistogram' || info.type === 'summary' ? '; the chart shows counts' : ''}
            </p>
            <label>
              Split by{' '}
              <select value={split} onChange={(e) => setSplit((e.currentTarget as HTMLSelectElement).value)} data-testid="split-by">
                <option value="">each series</option>
                {[SERVICE, TENANT, ...keys].map((k) => (
                  <option value={k}>{k}</option>
                ))}
              </select>
            </label>
            <Chart
              title={name}
              testid="metric-chart"
              times={times}
              points
              height={260}
              series={[...groups].slice(0, 20).map(([label, values]) => ({ label, values }))}
            />
            <table data-testid="series">
              <thead>
                <tr>
                  <th>service.name</th>
                  <th>attributes</th>
                  <th>last value</th>
                  <th>at</th>
                  <th>points</th>
                </tr>
              </thead>
              <tbody>
                {[...series.values()].map(({ last, count }) => (
                  <tr>
                    <td>{last.service}</td>
                    <td class="small">{attrsText(last.attrs) || <span class="muted">none</span>}</td>
                    <td>
                      {num(last.v)}
                      {last.sum === null ? '' : ` (sum ${num(last.sum)})`}
                    </td>
                    <td>{time(last.t)}</td>
                    <td>{count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>
    </div>
  );
}
