import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { loadUws } from '../src/worker/uws.js';

/**
 * The benchmark origin: a uWS server with fixed, preallocated answers, as fast as we can make an
 * upstream so the numbers measure the proxy. Run as its own process (pinned away from the gateway),
 * listening on 127.0.0.1 and 127.0.0.2:
 *   node dist/perf/origin.js PORT   → prints "origin ready PORT" on stdout.
 *   GET /tiny (11 bytes) · GET /4k · GET /64k · any other GET path → tiny · POST * → drains the body, answers "ok".
 */
const uws = loadUws();
const BODIES: Record<string, Buffer> = {
  '/4k': Buffer.alloc(4096, 'a'),
  '/64k': Buffer.alloc(65536, 'b'),
};
const TINY = Buffer.from('hello world');
const OK = Buffer.from('ok');

const app = uws.App();
app.get('/*', (res: HttpResponse, req: HttpRequest) => {
  const body = BODIES[req.getUrl()] ?? TINY;
  res.cork(() => {
    res.writeHeader('content-type', 'text/plain').end(body);
  });
});
app.post('/*', (res: HttpResponse) => {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((_chunk, isLast) => {
    if (isLast && !aborted)
      res.cork(() => {
        res.end(OK);
      });
  });
});
// Also on 127.0.0.2 (same port): the balancer scenarios need two endpoints with distinct addresses.
app.listen('127.0.0.1', Number(process.argv[2] ?? 0), (socket) => {
  if (socket === false) {
    process.stderr.write('origin: cannot listen\n');
    process.exit(1);
  }
  const port = uws.us_socket_local_port(socket);
  app.listen('127.0.0.2', port, (second) => {
    if (second === false) {
      process.stderr.write('origin: cannot listen on 127.0.0.2\n');
      process.exit(1);
    }
    process.stdout.write(`origin ready ${port}\n`);
  });
});
process.on('SIGTERM', () => process.exit(0));
