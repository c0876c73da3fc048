/** Overview: rates per signal, service and tenant over the last minutes; refusals; queued bytes. */
import { Chart } from '../chart.js';
import { bytes, num } from '../format.js';
import type { Series } from '../store.js';
import { useStore } from '../use-store.js';

/** Rows of a table sorted by items over the window, the first `n`. */
function top(series: Series, n: number): [string, { requests: number[]; items: number[] }][] {
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  return [...series].sort((a, b) => sum(b[1].items) - sum(a[1].items)).slice(0, n);
}

/** Mean per second over the last `k` seconds. */
const recent = (a: readonly number[], k = 10): number => a.slice(-k).reduce((x, y) => x + y, 0) / Math.min(k, Math.max(1, a.length));
const total = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);

function RateTable(props: { title: string; series: Series; testid: string }) {
  const rows = top(props.series, 50);
  return (
    <table data-testid={props.testid}>
      <thead>
        <tr>
          <th>{props.title}</th>
          <th>req/s</th>
          <th>items/s</th>
          <th>items (window)</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={4} class="muted">
              nothing in the window
            </td>
          </tr>
        )}
        {rows.map(([name, r]) => (
          <tr data-name={name}>
            <td>{name}</td>
            <td>{num(recent(r.requests))}</td>
            <td>{num(recent(r.items))}</td>
            <td>{num(total(r.items))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OverviewPage() {
  const s = useStore();
  const zeros = s.times.map(() => 0);
  const sig = (name: string, k: 'requests' | 'items') => s.signals.get(name)?.[k] ?? zeros;
  const t = s.last;
  const lines = (series: Series, n: number) => top(series, n).map(([label, r]) => ({ label, values: r.items }));
  const refusalRows = [...s.refusals].filter(([, v]) => total(v) > 0);
  return (
    <div class="page" data-testid="page-overview">
      <section class="cards">
        {(['metrics', 'logs', 'traces'] as const).map((name) => (
          <div class="card" data-testid={`card-${name}`}>
            <h3>{name}</h3>
            <div class="big">{num(recent(sig(name, 'items')))} items/s</div>
            <div class="muted">{num(recent(sig(name, 'requests')))} req/s (last 10 s)</div>
          </div>
        ))}
        <div class="card">
          <h3>queued</h3>
          <div class="big">{bytes(t?.queuedBytes ?? 0)}</div>
          <div class="muted">of {bytes(t?.maxQueuedBytes ?? 0)} (backpressure)</div>
          {t?.diskBytes !== null && t?.diskBytes !== undefined && (
            <div class="muted">
              disk {bytes(t.diskBytes)} of {bytes(t.diskMaxBytes ?? 0)}
            </div>
          )}
        </div>
      </section>
      <div class="grid2">
        <Chart
          title="items/s per signal"
          testid="chart-signals"
          times={s.times}
          series={['metrics', 'logs', 'traces'].map((n) => ({ label: n, values: sig(n, 'items') }))}
        />
        <Chart
          title="requests/s per signal"
          times={s.times}
          series={['metrics', 'logs', 'traces'].map((n) => ({ label: n, values: sig(n, 'requests') }))}
        />
        <Chart title="items/s per service (top 8)" testid="chart-services" times={s.times} series={lines(s.services, 8)} />
        <Chart title="items/s per tenant (top 8)" testid="chart-tenants" times={s.times} series={lines(s.tenants, 8)} />
        <Chart
          title="queued bytes"
          times={s.times}
          format={bytes}
          series={[{ label: 'memory / backlog', values: s.queued }, ...(s.disk === null ? [] : [{ label: 'disk', values: s.disk }])]}
        />
        <Chart title="refusals/s by reason" times={s.times} series={refusalRows.map(([label, values]) => ({ label, values }))} />
      </div>
      <div class="grid2">
        <RateTable title="service.name" series={s.services} testid="services" />
        <RateTable title="tenant" series={s.tenants} testid="tenants" />
      </div>
      <h2>Refusals in the window</h2>
      <table data-testid="refusals">
        <tbody>
          {refusalRows.length === 0 && (
            <tr>
              <td class="muted">none</td>
            </tr>
          )}
          {refusalRows.map(([reason, v]) => (
            <tr>
              <td>{reason}</td>
              <td>{num(total(v))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
