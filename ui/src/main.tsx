/**
 * The inspector's page: one script, hash routes (#/overview, #/upstreams, #/tail, #/metrics,
 * #/logs, #/traces, #/config), all fed by the event stream (store.ts) except the config page,
 * which asks for the configuration when it opens.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './app.css';
import { ConfigPage } from './pages/config.js';
import { LogsPage } from './pages/logs.js';
import { MetricsPage } from './pages/metrics.js';
import { OverviewPage } from './pages/overview.js';
import { TailPage } from './pages/tail.js';
import { TracesPage } from './pages/traces.js';
import { UpstreamsPage } from './pages/upstreams.js';
import { connect } from './store.js';
import { useStore } from './use-store.js';

const PAGES = [
  ['overview', 'Overview', OverviewPage],
  ['upstreams', 'Upstreams', UpstreamsPage],
  ['tail', 'Live tail', TailPage],
  ['metrics', 'Metrics', MetricsPage],
  ['logs', 'Logs', LogsPage],
  ['traces', 'Traces', TracesPage],
  ['config', 'Config', ConfigPage],
] as const;

function route(): string {
  const h = location.hash.replace(/^#\/?/, '');
  return PAGES.some(([id]) => id === h) ? h : 'overview';
}

function App() {
  const [page, setPage] = useState(route());
  const s = useStore();
  useEffect(() => {
    const on = (): void => setPage(route());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const Page = PAGES.find(([id]) => id === page)![2];
  const d = s.last?.decode;
  return (
    <>
      <header>
        <span class="brand">otlp-fanout inspector</span>
        <nav>
          {PAGES.map(([id, label]) => (
            <a href={`#/${id}`} class={id === page ? 'active' : ''} data-testid={`nav-${id}`}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`status ${s.connected ? 'ok' : 'down'}`} data-testid="connection">
          {s.connected ? 'live' : (s.problem ?? 'connecting…')}
        </span>
      </header>
      <main>
        {d !== undefined && d.skipped > 0 && (
          <p class="note">
            Sampling: {d.decoded} requests decoded in the last second, {d.skipped} skipped (the decode budget is{' '}
            {s.hello?.limits.decodeRequestsPerSecond} requests/s). Counts and charts include every request.
          </p>
        )}
        {s.lost > 0 && <p class="note">{s.lost} entries were not sent to this page (it read too slowly).</p>}
        <Page />
      </main>
    </>
  );
}

connect();
render(<App />, document.getElementById('app')!);
