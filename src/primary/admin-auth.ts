import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { AdminPlan } from '../compile/plan.js';
import type { SchemaProblem } from '../config/validate.js';

/**
 * Who may use the admin API: with a token, every endpoint but /healthz and /readyz needs
 * `Authorization: Bearer <token>`; without one, the admin listener must stay on loopback.
 */

/** 127.0.0.0/8, ::1 and localhost; any other address or name may be reachable from elsewhere. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * The problem with an admin API open beyond this machine: checked for the configured host and, on a
 * reload, for the host the running listener is bound to (a host change only applies on restart).
 */
export function adminOpenProblem(a: AdminPlan, runningHost: string = a.host): SchemaProblem | null {
  if (a.tokenDigest !== null) return null;
  const exposed = [a.host, runningHost].find((h) => !isLoopback(h));
  if (exposed === undefined) return null;
  return {
    path: ['admin', 'host'],
    message: `the admin API on ${exposed} is not on loopback and has no token: set admin.token, admin.token_file or SLUICE_ADMIN_TOKEN, or bind admin.host to 127.0.0.1`,
  };
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Whether an Authorization header carries the token whose sha256 is `digestHex`. Both sides are
 * hashed first, so the compare is over equal lengths and takes the same time however much matches.
 */
export function bearerMatches(authorization: string | undefined, digestHex: string): boolean {
  const m = authorization === undefined ? null : BEARER.exec(authorization);
  const presented = createHash('sha256')
    .update(m?.[1] ?? '')
    .digest();
  return timingSafeEqual(presented, Buffer.from(digestHex, 'hex')) && m !== null;
}

/**
 * An open admin API (no token, so on loopback) answers only requests a local client addressed to a
 * loopback name, and no cross-site form: otherwise a web page the operator visits could reach it
 * through DNS rebinding (Host: attacker.example pointing at 127.0.0.1) or a cross-site POST /reload.
 */
export function addressedFromElsewhere(host: string | undefined, origin: string | undefined): boolean {
  if (host === undefined || !isLoopback(hostName(host))) return true;
  if (origin === undefined) return false;
  try {
    return !isLoopback(new URL(origin).hostname.replace(/^\[(.*)\]$/, '$1'));
  } catch {
    return true;
  }
}

/** The name in a Host header, without its port and IPv6 brackets. */
function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
