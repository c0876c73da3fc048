/**
 * Console lines for reloads: what a reload did (printed when it ends, whatever the summary
 * interval), and what an upstream a reload removed could not deliver once it drained. Pure
 * formatting, so tests compare exact text; `basic` keeps each event on one line.
 */
import type { Verbosity } from '../config/gateway-config.js';
import type { ReloadResult, RetiredEvent } from './events.js';
import { formatCount } from './print-summary.js';

function head(atMs: number): string {
  return `${new Date(atMs).toISOString()} otlp-fanout gateway:`;
}

/** `+a ~b -c`: added, changed, removed names; empty when there are none. */
function names(d: ReloadResult['upstreams']): string {
  return [...d.added.map((n) => `+${n}`), ...d.changed.map((n) => `~${n}`), ...d.removed.map((n) => `-${n}`)].join(' ');
}

/**
 * What a reload did; one line, then (except at `basic`) one line per setting that needs a restart and
 * per part of the document ignored (a remote config's `opamp`, `storage`). Ends with a newline.
 */
export function formatReload(r: ReloadResult, verbosity: Verbosity, atMs: number): string {
  const from = r.source === 'api' || r.source === r.trigger ? r.trigger : `${r.trigger}, ${r.source}`;
  let line = `${head(atMs)} reload (${from})`;
  switch (r.outcome) {
    case 'rejected':
      line += ` rejected, the running configuration is kept: ${r.error?.message ?? 'unknown problem'}`;
      break;
    case 'unchanged':
      line += ' unchanged: the configuration is the running one';
      break;
    case 'applied': {
      const parts: string[] = [];
      const upstreams = names(r.upstreams);
      if (upstreams !== '') parts.push(`upstreams ${upstreams}`);
      const tenants = names(r.tenants);
      if (tenants !== '') parts.push(`tenants ${tenants}`);
      if (r.settings.length > 0) parts.push(`changed ${r.settings.join(', ')}`);
      for (const c of r.receivers) {
        parts.push(
          `${c.receiver} receiver ${c.change === 'stopped' ? 'stopped' : `${c.change === 'certificate' ? 'has a new certificate' : c.change} on ${c.address}`}`,
        );
      }
      line += ` applied in ${r.elapsedMs} ms${parts.length === 0 ? '' : `: ${parts.join('; ')}`}`;
      break;
    }
  }
  if (verbosity === 'basic') {
    if (r.needsRestart.length > 0) line += `; needs a restart: ${r.needsRestart.map((n) => n.path).join(', ')}`;
    if (r.ignored.length > 0) line += `; ignored: ${r.ignored.map((n) => n.path).join(', ')}`;
    return `${line}\n`;
  }
  return `${line}\n${r.needsRestart.map((n) => `  ${n.path}: not changed until a restart (${n.reason})\n`).join('')}${r.ignored
    .map((n) => `  ${n.path}: ignored (${n.reason})\n`)
    .join('')}`;
}

/**
 * What a removed upstream did with what it held, once its drain ended; a replaced one is printed
 * only if it lost something (what it held went to its replacement). Empty or a line.
 */
export function formatRetired(e: RetiredEvent, atMs: number): string {
  const what = `${head(atMs)} upstream ${e.name} (${e.reason} by a reload)`;
  if (e.undeliveredRequests === 0) return e.reason === 'removed' ? `${what} delivered everything it held in ${formatCount(e.elapsedMs)} ms\n` : '';
  return `${what} could not deliver ${formatCount(e.undeliveredRequests)} requests, ${formatCount(e.undeliveredItems)} items within ${formatCount(e.elapsedMs)} ms; they are dropped\n`;
}
