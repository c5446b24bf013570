import { get } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import { listenInodes, ownershipProblem } from './socket-owner.js';

/** The running sluice a `--takeover` start replaces. */
export interface Predecessor {
  readonly pid: number;
}

/** How long a predecessor's admin API may take to answer who it is. */
const ASK_MS = 2000;

/**
 * Who holds this config's admin port: a sluice answers GET /healthz with its pid. Nothing listening
 * means there is nothing to take over (a first start), so the start goes on as a plain one; anything
 * else on that port is refused, and so is a pid that does not own the admin socket (a stranger could
 * name any process to be signalled) or a sluice that is already draining (it would not hand over its
 * admin port). The admin port must be fixed: with port 0 no successor can find it.
 */
export async function findPredecessor(host: string, port: number): Promise<Predecessor | null> {
  if (port === 0) return null;
  const refuse = (why: string) => new GatewayError('SLUICE_ERR_PORT_IN_USE', `(--takeover: admin ${host}:${port} ${why})`);
  const health = await ask(host, port, '/healthz', refuse);
  if (health === null) return null;
  const pid = pidOf(health.body);
  if (health.status !== 200 || pid === null) throw refuse('does not answer as sluice');
  const problem = ownershipProblem(pid, listenInodes(host, port));
  if (problem !== null) throw refuse(`names pid ${pid}, not signalled: ${problem}; stop the process on that port or start without --takeover`);
  const ready = await ask(host, port, '/readyz', refuse);
  if (ready !== null && ready.status === 503 && ready.body.includes('draining'))
    throw refuse(`answers that the running sluice (pid ${pid}) is already draining; start without --takeover once it has exited`);
  return { pid };
}

/** One GET to the admin API: its status and body, or null when nothing listens. */
function ask(host: string, port: number, path: string, refuse: (why: string) => GatewayError): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path, timeout: ASK_MS, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(refuse('did not answer in time')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve(null);
      else reject(err instanceof GatewayError ? err : refuse(`: ${err.code ?? err.message}`));
    });
  });
}

function pidOf(body: string): number | null {
  try {
    const pid = (JSON.parse(body) as { status?: unknown; pid?: unknown }).pid;
    return Number.isInteger(pid) && (pid as number) > 0 && pid !== process.pid ? (pid as number) : null;
  } catch {
    return null;
  }
}

/**
 * Tell the predecessor to hand over: SIGUSR2 makes it release its admin port at once, stop accepting
 * and drain (cli.ts). Sent only once this process's workers listen on the shared ports.
 */
export function signalHandover(p: Predecessor): void {
  process.kill(p.pid, 'SIGUSR2');
}

/** While the predecessor releases the admin port, binding it is retried this often, for at most ADMIN_WAIT_MS. */
export const ADMIN_RETRY_MS = 50;
export const ADMIN_WAIT_MS = 10_000;
