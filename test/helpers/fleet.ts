import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent, request as undiciRequest } from 'undici';

/** How a fleet endpoint answers: fine, with a status, by resetting, never, slowly, or by dying mid-body. */
export type Mode = 'ok' | 'reset' | 'hang' | 'cut-mid-body' | { status: number } | { delayMs: number };

export interface FleetEndpoint {
  readonly name: string;
  readonly origin: string;
  readonly port: number;
  /** Requests received (health checks excluded). */
  hits: number;
  /** GET /healthz probes received. */
  healthHits: number;
  /** Bodies of requests received, in order. */
  readonly bodies: string[];
  mode: Mode;
  /** What GET /healthz answers. */
  healthStatus: number;
  /** Open TCP connections from the gateway. */
  readonly connections: number;
  /** Stop listening (connections are refused); reopen() listens on the same port again. */
  stop(): Promise<void>;
  reopen(): Promise<void>;
}

/**
 * A real HTTP upstream on loopback that says who it is (X-Endpoint header and body) and fails on
 * command. `host` lets several share one port on different loopback addresses (DNS tests).
 */
export async function startEndpoint(name: string, host = '127.0.0.1', port = 0): Promise<FleetEndpoint> {
  const sockets = new Set<Socket>();
  let server: Server;
  const ep = {
    name,
    hits: 0,
    healthHits: 0,
    bodies: [] as string[],
    mode: 'ok' as Mode,
    healthStatus: 200,
    origin: '',
    port: 0,
    get connections() {
      return sockets.size;
    },
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
    reopen: () => listen(ep.port),
  };
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server = createServer((req, res) => {
        if (req.url === '/healthz') {
          ep.healthHits++;
          res.writeHead(ep.healthStatus).end();
          return;
        }
        ep.hits++;
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          ep.bodies.push(Buffer.concat(chunks).toString());
          answer(ep.mode, name, req.socket, res);
        });
      });
      server.keepAliveTimeout = 30_000;
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.once('error', reject);
      server.listen(p, host, () => {
        ep.port = (server.address() as AddressInfo).port;
        ep.origin = `http://${host}:${ep.port}`;
        resolve();
      });
    });
  await listen(port);
  return ep;
}

function answer(mode: Mode, name: string, socket: Socket, res: import('node:http').ServerResponse): void {
  if (mode === 'hang') return;
  if (mode === 'reset') {
    socket.resetAndDestroy();
    return;
  }
  if (mode === 'cut-mid-body') {
    res.writeHead(200, { 'content-length': '1000', 'x-endpoint': name });
    res.write('partial');
    setTimeout(() => socket.resetAndDestroy(), 50);
    return;
  }
  const send = (status: number) => res.writeHead(status, { 'content-type': 'text/plain', 'x-endpoint': name }).end(name);
  if (mode === 'ok') send(200);
  else if ('status' in mode) send(mode.status);
  else setTimeout(() => send(200), mode.delayMs);
}

export interface LoadResult {
  /** status → count */
  readonly statuses: Map<number, number>;
  /** X-Endpoint → count (responses that carried one) */
  readonly byEndpoint: Map<string, number>;
  /** Transport errors (no HTTP answer at all). */
  readonly errors: number;
}

/**
 * `total` GETs over `concurrency` keep-alive connections (undici), bounded and loopback-only.
 * `headers(i)` may vary headers per request; `until.stop` ends it early.
 */
export async function load(
  url: string,
  total: number,
  concurrency: number,
  headers?: (i: number) => Record<string, string>,
  until?: { stop: boolean },
): Promise<LoadResult> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  const statuses = new Map<number, number>();
  const byEndpoint = new Map<string, number>();
  let errors = 0;
  let next = 0;
  const worker = async () => {
    while (next < total && until?.stop !== true) {
      const i = next++;
      try {
        const r = await undiciRequest(url, { dispatcher: agent, headers: headers?.(i), headersTimeout: 10_000, bodyTimeout: 10_000 });
        await r.body.dump();
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        const who = r.headers['x-endpoint'];
        if (typeof who === 'string') byEndpoint.set(who, (byEndpoint.get(who) ?? 0) + 1);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await agent.close();
  return { statuses, byEndpoint, errors };
}

/** Resolves when `check()` is true, polling every 20 ms; rejects after timeoutMs with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not seen within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
