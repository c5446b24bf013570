// The client side of a case: one raw TCP connection to the gateway (node:net), what was written and
// when, every byte that came back, and the responses those bytes parse into. Nothing here judges.
import { connect } from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

/** Parse as many whole-or-partial responses as `data` holds. Bodies: 1xx/204/304 none, else CL, chunked, or to close. */
export function parseResponses(data, closed) {
  const out = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf(CRLF2, at);
    if (end < 0) {
      out.push({ status: statusOf(data.toString('latin1', at, Math.min(data.length, at + 64))), headers: {}, body: Buffer.alloc(0), complete: false });
      break;
    }
    const lines = data.toString('latin1', at, end).split('\r\n');
    const status = statusOf(lines[0]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) {
        const name = line.slice(0, colon).trim().toLowerCase();
        headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
      }
    }
    const bodyAt = end + 4;
    const framed = frame(data, bodyAt, status, headers, closed);
    out.push({ status, headers, body: framed.body, complete: framed.complete });
    if (!framed.complete) break;
    at = framed.next;
  }
  return out;
}

function statusOf(line) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(line);
  return m ? Number(m[1]) : null;
}

function frame(data, at, status, headers, closed) {
  if (status === null || (status >= 100 && status < 200) || status === 204 || status === 304) return { body: Buffer.alloc(0), complete: true, next: at };
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) return dechunk(data, at);
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    const body = data.subarray(at, at + n);
    return { body, complete: body.length === n, next: at + n };
  }
  return { body: data.subarray(at), complete: closed, next: data.length };
}

function dechunk(data, at) {
  const parts = [];
  for (;;) {
    const nl = data.indexOf('\r\n', at);
    if (nl < 0) return { body: Buffer.concat(parts), complete: false, next: data.length };
    const size = Number.parseInt(data.toString('latin1', at, nl), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false, next: data.length };
    if (size === 0) {
      const end = data.indexOf('\r\n', nl + 2);
      return { body: Buffer.concat(parts), complete: end >= 0, next: end < 0 ? data.length : end + 2 };
    }
    if (data.length < nl + 2 + size + 2) return { body: Buffer.concat(parts, size), complete: false, next: data.length };
    parts.push(data.subarray(nl + 2, nl + 2 + size));
    at = nl + 2 + size + 2;
  }
}

/**
 * One client connection. Every wait is bounded; `end()` destroys the socket and returns the record:
 * { data, responses, firstByteMs, responseMs[], closedMs, reset, connectError }.
 */
export function open(port) {
  const t0 = performance.now();
  const sock = connect({ host: '127.0.0.1', port, noDelay: true });
  const rec = { data: Buffer.alloc(0), responses: [], firstByteMs: null, responseMs: [], closedMs: null, reset: false, connectError: null };
  let wake = () => {};
  let ended = false;
  const since = () => Math.round(performance.now() - t0);
  const reparse = () => {
    rec.responses = parseResponses(rec.data, rec.closedMs !== null);
    const done = rec.responses.filter((r) => r.complete && r.status !== null && r.status >= 200).length;
    while (rec.responseMs.length < done) rec.responseMs.push(since());
  };
  sock.on('data', (chunk) => {
    if (rec.firstByteMs === null) rec.firstByteMs = since();
    rec.data = Buffer.concat([rec.data, chunk]);
    reparse();
    wake();
  });
  sock.on('error', (err) => {
    if (ended) return;
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') rec.reset = true;
    else rec.connectError = err.code ?? String(err);
  });
  sock.on('close', () => {
    if (ended) return;
    rec.closedMs = since();
    reparse();
    wake();
  });
  const connected = new Promise((resolve) => {
    sock.once('connect', resolve);
    sock.once('close', resolve);
  });
  /** Resolve when pred() holds or after ms, whichever comes first. */
  const until = (pred, ms) =>
    new Promise((resolve) => {
      if (pred()) return resolve(true);
      const timer = setTimeout(() => {
        wake = () => {};
        resolve(pred());
      }, ms);
      wake = () => {
        if (pred()) {
          clearTimeout(timer);
          wake = () => {};
          resolve(true);
        }
      };
    });
  const finals = () => rec.responses.filter((r) => r.complete && r.status !== null && r.status >= 200).length;
  return {
    rec,
    since,
    async write(bytes) {
      await connected;
      if (!sock.destroyed && sock.writable) sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    /** n final (≥ 200) complete responses, or the connection closed, or ms passed. */
    waitResponses: (n, ms) => until(() => finals() >= n || rec.closedMs !== null, ms),
    /** Any status line at all (a head), or closed. */
    waitHead: (ms) => until(() => rec.responses.some((r) => r.status !== null) || rec.closedMs !== null, ms),
    waitClose: (ms) => until(() => rec.closedMs !== null, ms),
    end() {
      ended = true;
      sock.destroy();
      return rec;
    },
  };
}
