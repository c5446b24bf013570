import { dirname, resolve } from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';
import type { ListenerPlan, TlsPlan } from './plan.js';

type ListenerConfig = Extract<GatewayConfig['listen'], { readonly host: string }>;
type TlsConfig = NonNullable<ListenerConfig['tls']>;

/**
 * `listen` (one listener or a list) → one plan per listener. Cross-field rules live here; whether
 * the certificate files are readable and match is checked by the primary (primary/tls-pairs.ts),
 * which alone reads them.
 */
export function compileListeners(listen: GatewayConfig['listen'], file: string, problems: SchemaProblem[]): ListenerPlan[] {
  const list: readonly ListenerConfig[] = Array.isArray(listen) ? listen : [listen as ListenerConfig];
  const at = (i: number): ConfigPath => (Array.isArray(listen) ? ['listen', i] : ['listen']);
  const firstTls = list.findIndex((l) => l.tls !== undefined);
  const seen = new Map<string, number>();
  return list.map((l, i) => {
    const where = `${l.host}:${l.port}`;
    const earlier = seen.get(where);
    if (earlier !== undefined && l.port !== 0) problems.push({ path: [...at(i), 'port'], message: `${where} is already listen[${earlier}]` });
    seen.set(where, i);
    if (l.redirect_to_https && l.tls !== undefined) {
      problems.push({ path: [...at(i), 'redirect_to_https'], message: 'only a plain listener redirects; this one terminates TLS itself' });
    } else if (l.redirect_to_https && firstTls === -1) {
      problems.push({ path: [...at(i), 'redirect_to_https'], message: 'needs a listener with tls: to redirect to' });
    }
    return {
      host: l.host,
      port: l.port,
      at: at(i),
      tls: l.tls === undefined ? null : compileTls(l.tls, dirname(file), [...at(i), 'tls'], problems),
      redirectTo: l.redirect_to_https && l.tls === undefined ? firstTls : null,
    };
  });
}

function compileTls(t: TlsConfig, base: string, at: ConfigPath, problems: SchemaProblem[]): TlsPlan {
  // This uWS build verifies a client certificate that is presented but cannot make one mandatory
  // (measured: docs/tls.md), so a config asking for that is refused rather than half-honoured.
  if (t.require_client_cert === true) {
    problems.push({
      path: [...at, 'require_client_cert'],
      message: 'SLUICE_ERR_TLS_CLIENT_CERT_UNSUPPORTED: this uWebSockets.js build cannot refuse clients that present no certificate; see docs/tls.md',
    });
  } else if (t.client_ca !== undefined && t.require_client_cert === undefined) {
    problems.push({
      path: [...at, 'client_ca'],
      message:
        'SLUICE_ERR_TLS_CLIENT_CERT_UNSUPPORTED: client_ca only verifies certificates that clients choose to present; say so with require_client_cert: false (docs/tls.md)',
    });
  }
  const sni = t.sni.map((s) => ({ hosts: s.hosts.map((h) => h.toLowerCase()), cert: resolve(base, s.cert), key: resolve(base, s.key) }));
  refuseRepeatedHosts(sni, at, problems);
  const files = [t.cert, t.key, ...t.sni.flatMap((s) => [s.cert, s.key]), ...(t.client_ca === undefined ? [] : [t.client_ca])];
  return {
    sources: [...new Set(files.map((f) => resolve(base, f)))],
    cert: resolve(base, t.cert),
    key: resolve(base, t.key),
    minVersion: t.min_version as TlsPlan['minVersion'],
    sni,
    clientCa: t.client_ca === undefined ? null : resolve(base, t.client_ca),
    stamp: '',
  };
}

/**
 * uWS aborts the whole process ("Internal routing error", exit 134) when one SSLApp is given the
 * same server name twice, so a name repeated in a listener's `sni:` (names are compared lower-cased,
 * as they are looked up) is refused here, at start and on a reload, before any worker builds the app.
 */
function refuseRepeatedHosts(sni: readonly { readonly hosts: readonly string[] }[], at: ConfigPath, problems: SchemaProblem[]): void {
  const first = new Map<string, number>();
  sni.forEach((entry, i) =>
    entry.hosts.forEach((host, j) => {
      const earlier = first.get(host);
      if (earlier === undefined) first.set(host, i);
      else problems.push({ path: [...at, 'sni', i, 'hosts', j], message: `${host} is already named by sni[${earlier}]; a name may appear once per listener` });
    }),
  );
}
