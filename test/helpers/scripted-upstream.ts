import type { Socket } from 'node:net';
import { startRawUpstream, type TestUpstream } from './upstream.js';

/** One request as a scripted upstream read it off the wire, with its exact bytes. */
export interface RawRequest {
  /** The request head, request line to the empty line (excluded), as the bytes that arrived. */
  readonly head: Buffer;
  /** The request line's bytes. */
  readonly line: Buffer;
  readonly method: string;
  /** The request target, decoded as latin1 (one char per byte). */
  readonly path: string;
  readonly body: Buffer;
  /** Which upstream connection it came on (1, 2, ...). */
  readonly conn: number;
  /** Its place on that connection (1 = the connection's first request). */
  readonly nth: number;
}

export interface ScriptedUpstream {
  readonly origin: string;
  readonly requests: RawRequest[];
  connections(): number;
  close(): Promise<void>;
}

/** A raw TCP upstream that splits each connection's bytes into request heads (+ Content-Length bodies). */
export async function scripted(answer: (r: RawRequest, s: Socket) => void): Promise<ScriptedUpstream> {
  const requests: RawRequest[] = [];
  let connections = 0;
  const up: TestUpstream = await startRawUpstream((s) => {
    s.setNoDelay(true);
    const conn = ++connections;
    let nth = 0;
    let pending = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      pending = Buffer.concat([pending, c]);
      while (!s.destroyed) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headText = pending.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headText)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const head = Buffer.from(pending.subarray(0, end));
        const body = Buffer.from(pending.subarray(end + 4, end + 4 + length));
        pending = pending.subarray(end + 4 + length);
        const lineEnd = head.indexOf('\r\n');
        const line = lineEnd < 0 ? head : head.subarray(0, lineEnd);
        const [method, path] = line.toString('latin1').split(' ');
        const r: RawRequest = { head, line, method, path, body, conn, nth: ++nth };
        requests.push(r);
        answer(r, s);
      }
    });
  });
  return { origin: up.origin, requests, connections: () => connections, close: () => up.close() };
}
