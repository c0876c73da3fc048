/**
 * Who may read the inspector and /metrics (docs/gateway.md, Web inspector): the configured
 * credentials (observe-endpoints.ts: a bearer token, or HTTP basic), compared as SHA-256 digests
 * in constant time as tenants' are (receive/authenticator.ts). A browser cannot attach a bearer
 * token to a page load, so the inspector's token is typed once into its login form (`POST /login`),
 * which sets a session cookie (HttpOnly, SameSite=Strict, random per process); scripts and
 * Prometheus send `Authorization: Bearer`. Basic is the browser's own prompt.
 *
 * Without credentials the inspector listens on loopback only (the config refuses otherwise), and
 * answers only requests whose Host names an IP address or `localhost`: a web page the operator
 * visits cannot then read it through a DNS name rebound to 127.0.0.1.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ObserveAuth } from '../config/observe-endpoints.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'otlp_fanout_inspector';

/** The verdict on one request. */
export type Access = 'allowed' | 'denied' | 'bad-host';

/** Checks requests against one endpoint's credentials. */
export interface AccessCheck {
  check(req: IncomingMessage, cookieAllowed: boolean): Access;
  /** For the login form: whether `token` is the configured one (token auth only). */
  tokenMatches(token: string): boolean;
  /** The Set-Cookie value of a new session (token auth only). */
  sessionCookie(): string;
  /** The WWW-Authenticate challenge of a refusal. */
  readonly challenge: string;
  readonly auth: ObserveAuth | null;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether a Host header names an IP literal or localhost (module comment). */
export function hostIsAddress(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || (name.includes(':') && /^[0-9a-f:.]+$/i.test(name));
}

/** An access check for `auth` (null: open, Host checked when `checkHost`). */
export function createAccessCheck(auth: ObserveAuth | null, checkHost: boolean): AccessCheck {
  // One session secret per process: a restart logs every browser out, which is fine for an operator's page.
  const session = randomBytes(32).toString('hex');
  const sessionDigest = sha(session);
  const challenge = auth?.kind === 'basic' ? 'Basic realm="otlp-fanout", charset="UTF-8"' : 'Bearer realm="otlp-fanout"';
  return {
    auth,
    challenge,
    check(req, cookieAllowed) {
      if (auth === null) return !checkHost || hostIsAddress(req.headers.host) ? 'allowed' : 'bad-host';
      const header = req.headers.authorization ?? '';
      const space = header.indexOf(' ');
      const scheme = header.slice(0, space).toLowerCase();
      const value = header.slice(space + 1).trim();
      if (auth.kind === 'token') {
        if (scheme === 'bearer' && same(sha(value), auth.digest)) return 'allowed';
        if (cookieAllowed) {
          const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
          if (cookie !== undefined && same(sha(cookie), sessionDigest)) return 'allowed';
        }
        return 'denied';
      }
      if (scheme !== 'basic') return 'denied';
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return same(sha(decoded), auth.digest) ? 'allowed' : 'denied';
    },
    tokenMatches(token) {
      return auth?.kind === 'token' && same(sha(token), auth.digest);
    },
    sessionCookie() {
      return `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`;
    },
  };
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
