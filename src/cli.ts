import { fileURLToPath } from 'node:url';
import { startEchoUpstream } from './demo/echo-upstream.js';
import { ConfigError, formatConfigIssue, GatewayError } from './errors/gateway-error.js';
import { type RunningGateway, runGateway } from './primary/gateway.js';
import { loadPlanFile } from './primary/load-plan.js';
import { configShape } from './stages/registry.js';

const DEFAULT_CONFIG = fileURLToPath(new URL('../../config/sluice.yaml', import.meta.url));

const USAGE = `usage:
  sluice start    [--config FILE] [--takeover]
                                    run the gateway (default config: ${DEFAULT_CONFIG});
                                    --takeover: share the ports of the sluice running this config,
                                    then make it drain (a restart that drops no request)
  sluice validate [--config FILE]   check a config; prints FILE:LINE:COL field: message per problem
  sluice demo     [--config FILE]   run the gateway plus demo echo upstreams for its 127.0.0.1 endpoints
  sluice schema                     print the config JSON Schema`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const configAt = rest.indexOf('--config');
  const file = configAt === -1 ? DEFAULT_CONFIG : rest[configAt + 1];
  if (file === undefined) return usage('--config needs a file');
  switch (command) {
    case 'validate':
      return validate(file);
    case 'start':
      return start(file, false, rest.includes('--takeover'));
    case 'demo':
      return start(file, true, rest.includes('--takeover'));
    case 'schema':
      process.stdout.write(JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...configShape.schema }, null, 2) + '\n');
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    default:
      return usage(`unknown command ${JSON.stringify(command)}`);
  }
}

function usage(problem: string): number {
  process.stderr.write(`sluice: ${problem}\n${USAGE}\n`);
  return 2;
}

function validate(file: string): number {
  try {
    const { plan, warnings } = loadPlanFile(file);
    for (const w of warnings) process.stderr.write(`warning: ${formatConfigIssue(w)}\n`);
    process.stdout.write(`${file}: ok (${plan.routes.length} routes, ${plan.upstreams.length} upstreams)\n`);
    return 0;
  } catch (err) {
    return reportStartupError(err);
  }
}

function reportStartupError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.code}: ${err.issues.length} problem(s)\n${err.issues.map(formatConfigIssue).join('\n')}\n`);
  } else if (err instanceof GatewayError) {
    process.stderr.write(`${err.code}: ${err.message}\n`);
  } else {
    process.stderr.write(`SLUICE_ERR_INTERNAL: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  return 1;
}

async function start(file: string, demo: boolean, takeover: boolean): Promise<number> {
  let gateway: RunningGateway;
  const closers: Array<() => void> = [];
  try {
    if (demo) {
      const { plan } = loadPlanFile(file);
      for (const u of plan.upstreams)
        for (const e of u.endpoints) {
          const url = new URL(e.origin);
          if (url.hostname !== '127.0.0.1' || url.protocol !== 'http:') continue;
          const server = await startEchoUpstream('127.0.0.1', Number(url.port));
          closers.push(() => server.close());
        }
    }
    gateway = await runGateway(file, process.env, { takeover });
  } catch (err) {
    for (const c of closers) c();
    return reportStartupError(err);
  }
  return new Promise<number>((resolve) => {
    let first: NodeJS.Signals | null = null;
    const stop = (signal: NodeJS.Signals) => {
      if (first !== null) {
        // A handover drain is not cut short by a service manager's SIGTERM, nor a drain by a handover.
        if (signal === 'SIGUSR2' || first === 'SIGUSR2') return;
        process.stderr.write(`sluice: second ${signal}, exiting without draining\n`);
        process.exit(1);
      }
      first = signal;
      // SIGUSR2: a successor (sluice start --takeover) listens on the same ports and wants the admin port.
      void gateway.shutdown(signal, signal === 'SIGUSR2').then(() => {
        for (const c of closers) c();
        resolve(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.on('SIGUSR2', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportStartupError(err);
  },
);
