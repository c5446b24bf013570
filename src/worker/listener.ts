import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { ListenerPlan, TlsPlan } from '../compile/plan.js';
import { redirectToHttps } from './https-redirect.js';
import type { Runtime } from './runtime.js';
import { tlsOptions } from './tls-options.js';
import { loadUws } from './uws.js';
import { UwsDownstream } from './uws-downstream.js';

const uws = loadUws();

export interface Listener {
  readonly port: number;
  /** A new generation's plan: a TLS listener whose files changed answers new handshakes with them. */
  update(plan: ListenerPlan): void;
  /** Stop accepting new connections; open connections keep being served. */
  stopAccepting(): void;
  /** Close every connection (idle keep-alive ones included) so the thread can end cleanly. */
  closeAll(): void;
}

/**
 * One listener of this worker, a uWS App (SSLApp for TLS): every request, whatever its method or
 * path, enters through one handler (routing is ours: uWS's own router does not know hosts,
 * predicates or precedence). `current` is read per request so a reload takes effect for the next
 * request, while requests in flight keep the generation they started with.
 *
 * New certificates: uWS cannot swap an SSLApp's default pair, so a new App with the new files
 * listens on the same port (SO_REUSEPORT) and the old one stops accepting. The old App keeps
 * serving the connections it holds until they end (measured: docs/tls.md).
 */
export function openListener(plan: ListenerPlan, redirectPort: number | null, current: () => Runtime, log: Logger): Promise<Listener> {
  const scheme = plan.tls === null ? 'http' : 'https';
  const handler =
    redirectPort !== null
      ? (res: HttpResponse, req: HttpRequest) => redirectToHttps(res, req, redirectPort)
      : (res: HttpResponse, req: HttpRequest) => new UwsDownstream(res, current(), scheme).accept(req);
  const makeApp = (tls: TlsPlan | null): TemplatedApp => (tls === null ? uws.App().any('/*', handler) : sslApp(tls, handler));

  return new Promise((resolve, reject) => {
    let app = makeApp(plan.tls);
    let stamp = plan.tls?.stamp ?? '';
    /** Apps replaced by newer certificates, still serving their open connections. */
    const retired: TemplatedApp[] = [];
    let listening: us_listen_socket | null = null;
    const stopAccepting = () => {
      if (listening !== null) uws.us_listen_socket_close(listening);
      listening = null;
    };
    const swap = (tls: TlsPlan) => {
      let next: TemplatedApp;
      try {
        next = makeApp(tls);
      } catch {
        // The primary checked these files; they changed again since. The next change reloads again.
        log.error({ code: 'SLUICE_ERR_TLS_PAIR', files: tls.sources, port: plan.port }, 'certificate not loaded; the previous one stays in force');
        return;
      }
      next.listen(plan.host, plan.port, (socket: us_listen_socket | false) => {
        if (socket === false) {
          log.error({ code: 'SLUICE_ERR_TLS_PAIR', port: plan.port }, 'cannot listen with the new certificate; the previous one stays in force');
          (next as unknown as { close(): void }).close();
          return;
        }
        stopAccepting();
        retired.push(app);
        app = next;
        listening = socket;
        stamp = tls.stamp;
        log.info({ port: plan.port, files: tls.sources }, 'certificate loaded');
      });
    };
    app.listen(plan.host, plan.port, (socket: us_listen_socket | false) => {
      if (socket === false) return reject(new Error(`cannot listen on ${plan.host}:${plan.port}`));
      listening = socket;
      resolve({
        port: uws.us_socket_local_port(socket),
        update(next) {
          if (next.tls !== null && next.tls.stamp !== stamp && listening !== null) swap(next.tls);
        },
        stopAccepting,
        closeAll() {
          stopAccepting();
          for (const a of [...retired, app]) (a as unknown as { close(): void }).close();
        },
      });
    });
  });
}

/**
 * Throws when uWS cannot load the default pair ("App construction failed"; it says no more). uWS
 * keeps a router per server name: requests on an SNI name reach only handlers attached through
 * domain(name), so the one handler is attached to each (without it uWS closes those connections).
 */
function sslApp(tls: TlsPlan, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp {
  const app = uws.SSLApp(tlsOptions(tls, tls.cert, tls.key)).any('/*', handler);
  for (const entry of tls.sni) {
    for (const host of entry.hosts)
      app
        .addServerName(host, tlsOptions(tls, entry.cert, entry.key))
        .domain(host)
        .any('/*', handler);
  }
  return app;
}
