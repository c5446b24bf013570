import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { catalog } from '../errors/catalog.js';
import { OPENMETRICS_TYPE, PROMETHEUS_TYPE, renderMetrics } from '../observe/exposition.js';
import { addressedFromElsewhere, bearerMatches } from './admin-auth.js';
import { sendPage } from './dashboard.js';
import { describeWorkers, type Scrape } from './metrics-scrape.js';

/** What the admin API needs from the running gateway. */
export interface AdminTarget {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly generation: number;
  /** sha256 of the admin token of the config in force (read per request, so a reload changes it); null = open. */
  readonly tokenDigest: string | null;
  reload(): Promise<{ ok: true; generation: number } | { ok: false; code: string; issues: string[] }>;
  /** Endpoints, their health and every breaker, as workers see them now. */
  upstreams(): unknown;
  /** Every worker's metrics, merged, with the primary's own. */
  scrape(): Promise<Scrape>;
  /** The validated config in force, secrets redacted, and the last reload's outcome. */
  config(): unknown;
  /** The compiled route table, in match order. */
  routes(): unknown;
}

/**
 * Admin HTTP API, served by the primary on admin.host:admin.port (loopback by default):
 *   GET  /healthz  200 {status, pid} while the process is alive
 *   GET  /readyz   200 once every worker listens; 503 while starting or draining
 *   GET  /upstreams  endpoints with health and ejection state, circuit breakers, in-flight counts
 *   GET  /metrics  Prometheus text (OpenMetrics when the scraper asks for it), merged across workers
 *   GET  /workers  each worker's generation, requests in flight, event-loop delay, heap, restarts
 *   GET  /config   the config in force, secrets redacted, and how the last reload went
 *   GET  /routes   the compiled route table in match order
 *   GET  /         the dashboard page (it holds no data: it asks for the token and fetches the rest)
 *   POST /reload   re-read the config file: 200 {generation} or 400 with every problem
 * With admin.token set, all but /healthz, /readyz (which load balancers and orchestrators probe) and
 * the dashboard page need `Authorization: Bearer <token>`, or get 401. Without one (loopback only),
 * they answer only requests addressed to a loopback name with no foreign Origin, or get 403.
 */
export function startAdmin(host: string, port: number, target: AdminTarget): Promise<Server> {
  const server = createServer((req, res) => void handle(req, res, target));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, target: AdminTarget): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  req.resume();
  const probe = req.method === 'GET' || req.method === 'HEAD';
  // The pid lets a successor started with --takeover find the sluice it replaces (cli.ts).
  if (probe && path === '/healthz') return send(res, 200, { status: 'ok', pid: process.pid });
  if (probe && path === '/readyz') {
    if (target.ready) return send(res, 200, { status: 'ready', generation: target.generation });
    return send(res, 503, { status: target.draining ? 'draining' : 'starting' });
  }
  if (probe && path === '/') return sendPage(res);
  const digest = target.tokenDigest;
  if (digest === null && addressedFromElsewhere(req.headers.host, req.headers.origin)) return forbidden(res);
  if (digest !== null && !bearerMatches(req.headers.authorization, digest)) return unauthorized(res);
  if (probe && path === '/upstreams') return send(res, 200, target.upstreams());
  if (probe && path === '/metrics') return sendMetrics(res, await target.scrape(), wantsOpenMetrics(req.headers.accept));
  if (probe && path === '/workers') return send(res, 200, describeWorkers(await target.scrape(), target.generation));
  if (probe && path === '/config') return send(res, 200, target.config());
  if (probe && path === '/routes') return send(res, 200, target.routes());
  if (req.method === 'POST' && path === '/reload') {
    const r = await target.reload();
    if (r.ok) return send(res, 200, { status: 'reloaded', generation: r.generation });
    return send(res, 400, { error: { code: r.code, message: 'config rejected; the running config stays in force', issues: r.issues } });
  }
  const allowed = ALLOWED[path];
  if (allowed !== undefined) {
    res.setHeader('allow', allowed);
    return send(res, 405, { error: { code: 'SLUICE_ERR_ADMIN_METHOD', message: catalog.SLUICE_ERR_ADMIN_METHOD.message } });
  }
  send(res, 404, {
    error: {
      code: 'SLUICE_ERR_ROUTE_NOT_FOUND',
      message: 'admin endpoints: GET /, GET /healthz, GET /readyz, GET /upstreams, GET /config, GET /routes, GET /metrics, GET /workers, POST /reload',
    },
  });
}

function forbidden(res: ServerResponse): void {
  send(res, 403, { error: { code: 'SLUICE_ERR_ADMIN_HOST', message: catalog.SLUICE_ERR_ADMIN_HOST.message } });
}

function unauthorized(res: ServerResponse): void {
  res.setHeader('www-authenticate', 'Bearer realm="sluice-admin"');
  send(res, 401, { error: { code: 'SLUICE_ERR_ADMIN_UNAUTHORIZED', message: catalog.SLUICE_ERR_ADMIN_UNAUTHORIZED.message } });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The methods of each admin path, for a 405's Allow header (HEAD answers as GET without the body). */
const ALLOWED: Readonly<Record<string, string>> = Object.assign(Object.create(null), {
  '/': 'GET, HEAD',
  '/healthz': 'GET, HEAD',
  '/readyz': 'GET, HEAD',
  '/upstreams': 'GET, HEAD',
  '/metrics': 'GET, HEAD',
  '/workers': 'GET, HEAD',
  '/config': 'GET, HEAD',
  '/routes': 'GET, HEAD',
  '/reload': 'POST',
});

/**
 * Prometheus lists OpenMetrics first in its Accept header; anything else, or an Accept that gives
 * OpenMetrics q=0, gets the classic text format.
 */
function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    return type === 'application/openmetrics-text' && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

function sendMetrics(res: ServerResponse, s: Scrape, openMetrics: boolean): void {
  const text = renderMetrics(s.series, openMetrics);
  res.writeHead(200, { 'content-type': openMetrics ? OPENMETRICS_TYPE : PROMETHEUS_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
