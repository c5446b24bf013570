import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Runtime } from './runtime.js';
import { loadUws } from './uws.js';
import { UwsDownstream } from './uws-downstream.js';

const uws = loadUws();

export interface Listener {
  readonly port: number;
  /** Stop accepting new connections; open connections keep being served. */
  stopAccepting(): void;
  /** Close every connection (idle keep-alive ones included) so the thread can end cleanly. */
  closeAll(): void;
}

/**
 * The uWS App for this worker: every request, whatever its method or path, enters through one
 * handler (routing is ours: uWS's own router does not know hosts, predicates or precedence).
 * `current` is read per request so a reload takes effect for the next request, while requests
 * in flight keep the generation they started with.
 */
export function openListener(host: string, port: number, current: () => Runtime): Promise<Listener> {
  const app: TemplatedApp = uws.App();
  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    new UwsDownstream(res, current(), 'http').accept(req);
  });
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket: us_listen_socket | false) => {
      if (socket === false) return reject(new Error(`cannot listen on ${host}:${port}`));
      let listening: us_listen_socket | null = socket;
      const stopAccepting = () => {
        if (listening !== null) uws.us_listen_socket_close(listening);
        listening = null;
      };
      resolve({
        port: uws.us_socket_local_port(socket),
        stopAccepting,
        closeAll() {
          stopAccepting();
          (app as unknown as { close(): void }).close();
        },
      });
    });
  });
}
