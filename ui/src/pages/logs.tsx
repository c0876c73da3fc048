/** Logs: recent log records, newest first, with severity, body and attributes. */
import { useState } from 'preact/hooks';
import { attrsText, time } from '../format.js';
import { useStore } from '../use-store.js';

const SHOWN = 500;

function level(n: number): string {
  return n >= 17 ? 'error' : n >= 13 ? 'warn' : n >= 9 ? 'info' : 'debug';
}

export function LogsPage() {
  const s = useStore();
  const [text, setText] = useState('');
  const [min, setMin] = useState(0);
  const q = text.toLowerCase();
  const rows = s.logs.filter(
    (l) => l.severityNumber >= min && (q === '' || `${l.body} ${attrsText(l.attrs)} ${l.service}`.toLowerCase().includes(q)),
  );
  return (
    <div class="page" data-testid="page-logs">
      <div class="filters">
        <select value={String(min)} onChange={(e) => setMin(Number((e.currentTarget as HTMLSelectElement).value))} data-testid="logs-severity">
          <option value="0">any severity</option>
          <option value="5">DEBUG and above</option>
          <option value="9">INFO and above</option>
          <option value="13">WARN and above</option>
          <option value="17">ERROR and above</option>
        </select>
        <input placeholder="text" value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} data-testid="logs-text" />
        <span class="muted">
          {rows.length} of {s.logs.length} records
        </span>
      </div>
      <table class="logs" data-testid="logs">
        <thead>
          <tr>
            <th>time</th>
            <th>severity</th>
            <th>service</th>
            <th>tenant</th>
            <th>body</th>
            <th>attributes</th>
          </tr>
        </thead>
        <tbody>
          {rows
            .slice(-SHOWN)
            .reverse()
            .map((l) => (
              <tr>
                <td>{time(l.t)}</td>
                <td>
                  <span class={`sev ${level(l.severityNumber)}`}>{l.severity || '–'}</span>
                </td>
                <td>{l.service}</td>
                <td>{l.tenant ?? '–'}</td>
                <td class="body">{l.body}</td>
                <td class="small">{attrsText(l.attrs)}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  );
}
