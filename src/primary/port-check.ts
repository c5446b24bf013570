import { createServer } from 'node:net';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * uWS listens with SO_REUSEPORT, so a stale gateway (or anything else with SO_REUSEPORT) on the same
 * port would silently take a share of the connections. Bind once without it first: EADDRINUSE means
 * someone is there. Port 0 is resolved here to one free port that every worker then shares.
 */
export function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new GatewayError('SLUICE_ERR_PORT_IN_USE', `(${host}:${port})`)
          : new GatewayError('SLUICE_ERR_PORT_IN_USE', `(${host}:${port}: ${err.code ?? err.message})`, { cause: err }),
      );
    });
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as { port: number }).port;
      probe.close(() => resolve(bound));
    });
  });
}
