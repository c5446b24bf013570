import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over a fresh TCP connection (no pooling, so tests never share sockets by accident). */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const json = (r: Reply): any => JSON.parse(r.body);

/**
 * Send raw bytes and collect everything the gateway sends back until it closes the connection or
 * `idleMs` passes with nothing new. For framing tests, where the request itself is malformed.
 */
export function rawExchange(port: number, bytes: string | Buffer, idleMs = 1500): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let timer = setTimeout(done, idleMs);
    let closed = false;
    function done() {
      socket.destroy();
      resolve({ text, closed });
    }
    socket.on('data', (c) => {
      text += c.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    socket.on('error', () => {});
    socket.write(bytes);
  });
}

/**
 * Send raw requests one at a time on one connection: each after the previous answer has settled
 * (`settleMs` with nothing new), so none is pipelined. Resolves like rawExchange.
 */
export function rawTurns(port: number, parts: string[], settleMs = 200, idleMs = 800): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let next = 0;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const turn = () => {
      if (next < parts.length) socket.write(parts[next++]);
      timer = setTimeout(next < parts.length ? turn : finish, next < parts.length ? settleMs * 5 : idleMs);
    };
    socket.on('data', (c) => {
      text += c.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(next < parts.length ? turn : finish, next < parts.length ? settleMs : idleMs);
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {});
    turn();
  });
}

/**
 * Send raw bytes and wait up to `capMs` for the server to close the connection. `closedAfterMs` is -1
 * when it was still open at the cap (the client closes it then). For requests a server never answers.
 */
export function rawUntilClosed(port: number, bytes: string | Buffer, capMs: number): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const t0 = Date.now();
    let text = '';
    let closedAfterMs = -1;
    const cap = setTimeout(() => socket.destroy(), capMs);
    socket.on('data', (c) => {
      text += c.toString('latin1');
    });
    socket.on('end', () => {
      closedAfterMs = Date.now() - t0;
    });
    socket.on('error', () => {
      if (closedAfterMs < 0) closedAfterMs = Date.now() - t0;
    });
    socket.on('close', () => {
      clearTimeout(cap);
      resolve({ text, closedAfterMs });
    });
    socket.write(bytes);
  });
}

/** Status codes of every response in a raw byte stream (pipelined answers). */
export function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}
