/** The configuration in effect, as the gateway shows it: every secret redacted (src/gateway/config/redacted-config.ts). */
import { useEffect, useState } from 'preact/hooks';

export function ConfigPage() {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetch('/api/config', { credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        setText(JSON.stringify(await r.json(), null, 2));
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  return (
    <div class="page" data-testid="page-config">
      <h2>Configuration in effect</h2>
      <p class="muted">
        After reloads; settings that need a restart at their running values. Secrets (tokens, API keys, header values, private keys, passwords, URL
        query values) are redacted by the gateway before they leave it.
      </p>
      {error !== null && <p class="error">Could not read it: {error}</p>}
      <pre data-testid="config">{text ?? 'loading…'}</pre>
    </div>
  );
}
