/** Upstreams: health, queue, latency, what became of the items, the last error; reloads. */
import { ago, bytes, ms, num, time } from '../format.js';
import { useStore } from '../use-store.js';

export function UpstreamsPage() {
  const s = useStore();
  const now = s.last?.t ?? Date.now();
  return (
    <div class="page" data-testid="page-upstreams">
      <h2>Upstreams</h2>
      {s.upstreams.length === 0 && <p class="muted">No forwarding upstream: the gateway observes only.</p>}
      <table data-testid="upstreams">
        <thead>
          <tr>
            <th>upstream</th>
            <th>health</th>
            <th>queue</th>
            <th>in flight</th>
            <th>p50 / p99 (10 s)</th>
            <th>sent</th>
            <th>failed</th>
            <th>dropped</th>
            <th>rejected</th>
            <th>retried</th>
            <th>last error</th>
          </tr>
        </thead>
        <tbody>
          {s.upstreams.map((u) => (
            <tr data-upstream={u.name} data-health={u.health}>
              <td>
                <div>{u.name}</div>
                <div class="muted small">
                  {u.endpoint} ({u.protocol}
                  {u.tenant === null ? '' : `, tenant ${u.tenant}`})
                </div>
              </td>
              <td>
                <span class={`badge ${u.health}`}>{u.health === 'failing' ? 'unhealthy' : u.health === 'ok' ? 'healthy' : 'idle'}</span>
              </td>
              <td>
                {bytes(u.queueBytes)}
                <div class="muted small">{num(u.queueRequests)} requests</div>
              </td>
              <td>{u.inFlight}</td>
              <td>
                {ms(u.p50Ms)} / {ms(u.p99Ms)}
              </td>
              <td>{num(u.itemsSent)}</td>
              <td>{num(u.itemsFailed)}</td>
              <td>{num(u.itemsDropped)}</td>
              <td>{num(u.itemsRejected)}</td>
              <td>{num(u.retries)}</td>
              <td class="error-cell" data-testid="last-error">
                {u.lastError === null ? (
                  <span class="muted">none</span>
                ) : (
                  <>
                    <div>{u.lastError.message}</div>
                    <div class="muted small">
                      {time(u.lastError.atMs)} ({ago(u.lastError.atMs, now)}){u.lastError.retryable ? ', retrying' : ', not retryable'}
                    </div>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Reloads</h2>
      <table data-testid="reloads">
        <tbody>
          {s.reloads.length === 0 && (
            <tr>
              <td class="muted">No reload since the gateway started (SIGHUP, --watch, or the API reload it).</td>
            </tr>
          )}
          {[...s.reloads].reverse().map((r) => (
            <tr>
              <td>{time(r.atMs)}</td>
              <td>
                <span class={`badge ${r.outcome === 'rejected' ? 'failing' : 'ok'}`}>{r.outcome}</span>
              </td>
              <td>
                {r.trigger} ({r.source})
              </td>
              <td>
                {r.error ?? r.summary}
                {r.needsRestart.length > 0 && <div class="muted small">needs a restart: {r.needsRestart.join(', ')}</div>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
