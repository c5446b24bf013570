import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { connect, type Socket } from 'node:net';
import { loadUws } from '../src/worker/uws.js';

/**
 * The floor under sluice: the same runtime parts (a uWS listener, keep-alive net.Sockets to the origin)
 * with no features at all: no routing, checks, request id, Via, X-Forwarded-For, timeouts or log.
 * native-bench runs it as its `bare` target, beside sluice and nginx, so the gap to nginx splits into
 * what the runtime costs and what sluice's features cost. Not a proxy to use: it trusts the origin
 * (Content-Length framing only) and forwards the request head as uWS hands it over.
 *   node dist/perf/bare-proxy.js PORT ORIGIN_PORT
 */
const uws = loadUws();
const [port, originPort] = process.argv.slice(2).map(Number);

interface Conn {
  socket: Socket;
  res: HttpResponse | null;
  aborted: boolean;
  pending: Buffer | null;
}
const idle: Conn[] = [];

function open(): Conn {
  const c: Conn = { socket: connect(originPort, '127.0.0.1'), res: null, aborted: false, pending: null };
  c.socket.setNoDelay(true);
  c.socket.on('data', (chunk: Buffer) => onData(c, chunk));
  c.socket.on('error', () => {
    /* followed by close */
  });
  // The origin closes connections idle for 10 s (uWS's timeout), e.g. while other targets are measured.
  c.socket.on('close', () => {
    const at = idle.indexOf(c);
    if (at >= 0) idle.splice(at, 1);
    if (c.res !== null && !c.aborted) {
      const res = c.res;
      res.cork(() => {
        res.writeStatus('502 Bad Gateway').end();
      });
    }
  });
  return c;
}

function onData(c: Conn, chunk: Buffer): void {
  const buf = c.pending === null ? chunk : Buffer.concat([c.pending, chunk]);
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    c.pending = buf;
    return;
  }
  const head = buf.toString('latin1', 0, headEnd);
  const at = head.search(/\r\ncontent-length:/i);
  const length = at < 0 ? 0 : parseInt(head.slice(head.indexOf(':', at) + 1), 10);
  if (buf.length < headEnd + 4 + length) {
    c.pending = buf;
    return;
  }
  c.pending = null;
  const res = c.res!,
    aborted = c.aborted;
  c.res = null;
  idle.push(c);
  if (aborted) return;
  const lines = head.split('\r\n');
  res.cork(() => {
    res.writeStatus(lines[0].slice(9));
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      const name = lines[i].slice(0, colon).toLowerCase();
      if (name !== 'content-length' && name !== 'connection' && name !== 'date') res.writeHeader(name, lines[i].slice(colon + 1).trim());
    }
    res.end(buf.subarray(headEnd + 4, headEnd + 4 + length));
  });
}

for (let i = 0; i < 64; i++) idle.push(open());

const app = uws.App();
app.any('/*', (res: HttpResponse, req: HttpRequest) => {
  const c = idle.pop() ?? open();
  c.res = res;
  c.aborted = false;
  res.onAborted(() => {
    c.aborted = true;
  });
  let head = `${req.getCaseSensitiveMethod()} ${req.getUrl()} HTTP/1.1\r\n`;
  req.forEach((name, value) => {
    if (name !== 'connection') head += `${name}: ${value}\r\n`;
  });
  c.socket.write(head + '\r\n', 'latin1');
});
app.listen('127.0.0.1', port, (socket) => {
  if (socket === false) {
    process.stderr.write('bare-proxy: cannot listen\n');
    process.exit(1);
  }
});
process.on('SIGTERM', () => process.exit(0));
