// The upstreams a catalog run proxies to: raw node:net servers on 127.0.0.1 that record every request
// head they read (and its body, CL or chunked) and answer as their behaviour says. One set per target,
// so what sluice forwarded and what nginx forwarded never mix.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok';
const ok = (body) => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** name → (request, socket, connState) => void: what the upstream does once a request is read (head + body). */
export const BEHAVIOURS = {
  public: (_r, s) => s.write(ok('public')),
  admin: (_r, s) => s.write(ok('admin')),
  // Class 7: response heads and framing a gateway must not relay as a good answer.
  bighead: (_r, s) => s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\nContent-Length: 2\r\n\r\nok`),
  manyheaders: (_r, s) =>
    s.write(`HTTP/1.1 200 OK\r\n${Array.from({ length: 150 }, (_, i) => `X-Header-${i}: ${'v'.repeat(30)}\r\n`).join('')}Content-Length: 2\r\n\r\nok`),
  badstatus: (_r, s) => s.write('HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok'),
  dupcl: (_r, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'),
  clte: (_r, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
  nocolon: (_r, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nThis line has no colon\r\n\r\nok'),
  badchunk: (_r, s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'),
  shortbody: (_r, s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
    setTimeout(() => s.destroy(), 50);
  },
  closenow: (_r, s) => s.destroy(),
  silent: () => {},
  continue100: (_r, s) => s.write(`HTTP/1.1 100 Continue\r\n\r\n${OK}`),
  body204: (r, s) => s.write(r.path.endsWith('/first') ? 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled' : ok('second')),
  // Class 8: an upstream that drops a request arriving on a reused connection (the keep-alive race, made certain).
  dropreused: (r, s) => (r.nth === 1 ? s.write(ok('first')) : s.destroy()),
  // Class 8: the same race seen as a reset (RST) instead of a close.
  resetreused: (r, s) => (r.nth === 1 ? s.write(ok('first')) : s.resetAndDestroy()),
  // Class 8: advertises Keep-Alive: timeout=1 and closes an idle connection after exactly 1 s.
  katimeout: (r, s, c) => {
    s.write(`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: ${r.nth === 1 ? 5 : 6}\r\n\r\n${r.nth === 1 ? 'first' : 'second'}`);
    clearTimeout(c.idle);
    c.idle = setTimeout(() => s.end(), 1000);
  },
  // Class 10: in flight long enough for a signal to arrive.
  slow: (_r, s) => setTimeout(() => !s.destroyed && s.write(ok('slow')), 1500),
};

/** Behaviours that answer once the head is read, before (or without) the body: class 9. */
export const EARLY = {
  early: (_r, s) => s.write(ok('early')),
  early413: (_r, s) => {
    s.write('HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    s.end();
  },
};

/** Start one recording upstream. `requests` grows as heads arrive; each has closedMs once its connection closed. */
export function startUpstream(name) {
  const answer = BEHAVIOURS[name] ?? EARLY[name];
  const early = EARLY[name] !== undefined;
  const requests = [];
  const sockets = new Set();
  let conns = 0;
  const server = createServer((s) => {
    sockets.add(s);
    s.setNoDelay(true);
    const c = { conn: ++conns, nth: 0, idle: null, open: [] };
    let pending = Buffer.alloc(0);
    let current = null;
    s.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (current === null) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          current = readHead(pending.subarray(0, end), c);
          c.open.push(current);
          requests.push(current);
          pending = pending.subarray(end + 4);
          if (early) answer(current, s, c);
        }
        const used = readBody(current, pending);
        if (used < 0) {
          current.body = Buffer.concat([current.body, pending]);
          pending = Buffer.alloc(0);
          return;
        }
        current.body = Buffer.concat([current.body, pending.subarray(0, used)]);
        current.complete = true;
        pending = pending.subarray(used);
        const done = current;
        current = null;
        if (!early && !s.destroyed) answer(done, s, c);
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      clearTimeout(c.idle);
      const at = performance.now();
      for (const r of c.open) r.closedAt = at;
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        name,
        port: server.address().port,
        requests,
        connections: () => conns,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(r));
        },
      }),
    ),
  );
}

function readHead(head, c) {
  const text = head.toString('latin1');
  const lines = text.split('\r\n');
  const [method, path] = lines[0].split(' ');
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const te = /chunked/i.test(headers['transfer-encoding'] ?? '');
  return {
    method,
    path,
    head: text,
    headers,
    caseId: headers['x-case'] ?? null,
    conn: c.conn,
    nth: ++c.nth,
    at: performance.now(),
    closedAt: null,
    body: Buffer.alloc(0),
    complete: false,
    left: te ? -1 : Number(headers['content-length'] ?? 0),
  };
}

/** Bytes of `buf` that finish r's body, or -1 when all of it is body and more is needed. Chunked: looks for the last chunk. */
function readBody(r, buf) {
  if (r.left >= 0) {
    const need = r.left - r.body.length;
    return buf.length >= need ? need : -1;
  }
  const all = Buffer.concat([r.body, buf]);
  const end = all.indexOf('\r\n0\r\n\r\n');
  const start = all.subarray(0, 5).toString('latin1').startsWith('0\r\n\r\n') ? 5 : -1;
  if (start > 0) return start - r.body.length;
  return end < 0 ? -1 : end + 7 - r.body.length;
}

/** A port where nothing listens: connect is refused at once. */
export async function refusedPort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * A port that drops SYNs: a python3 listener with backlog 0 that never accepts, its accept queue filled
 * by a few connections of ours. The kernel then drops every new SYN, as a firewalled host would.
 */
export async function blackhole() {
  const py = spawn(
    'python3',
    ['-c', 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(900)'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const port = await new Promise((resolve, reject) => {
    py.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    py.once('error', reject);
  });
  const fillers = [];
  for (let i = 0; i < 4; i++) {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  return {
    port,
    close() {
      for (const s of fillers) s.destroy();
      py.kill();
    },
  };
}
