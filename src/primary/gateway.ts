import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { CompiledPlan, ListenerPlan } from '../compile/plan.js';
import { describeRoutes } from '../compile/route-table.js';
import { watchFiles } from '../config/file-watch.js';
import { Discovery } from '../discovery/discovery.js';
import { ConfigError, type ConfigIssue, formatConfigIssue, GatewayError } from '../errors/gateway-error.js';
import { createLogger, flushLogger } from '../observe/log.js';
import { nowMs } from '../shared/clock.js';
import { EndpointHealth } from '../shared/endpoint-health.js';
import { createSharedState } from '../shared/shared-state.js';
import { UpstreamTable } from '../shared/upstream-table.js';
import { stageFactory, stageRegistry, stageTableBytes } from '../stages/registry.js';
import { loadUws } from '../worker/uws.js';
import { ActiveHealthChecker } from './active-health.js';
import { startAdmin } from './admin.js';
import { describeConfig, type ReloadOutcome } from './describe-config.js';
import { describeUpstreams } from './describe-upstreams.js';
import { EndpointRows } from './endpoint-rows.js';
import { loadPlanFile } from './load-plan.js';
import { type ReloadCounts, scrape } from './metrics-scrape.js';
import { gcMode } from './node-flags.js';
import { claimPort } from './port-check.js';
import { listenInodes, ownerOf } from './socket-owner.js';
import { StageServices } from './stage-services.js';
import { Supervisor } from './supervisor.js';
import { ADMIN_RETRY_MS, ADMIN_WAIT_MS, findPredecessor, signalHandover } from './takeover.js';
import { clearStaleCopies, keepOnlyCopies } from './tls-copies.js';
import { certificatesInForce, tlsCopies, tlsFiles } from './tls-pairs.js';

export interface RunningGateway {
  readonly port: number;
  readonly adminPort: number;
  /** Drain and stop. A handover (a successor took the ports) releases the admin port first, at once. */
  shutdown(reason: string, handover?: boolean): Promise<void>;
}

export interface StartOptions {
  /**
   * Take over from a sluice running this config (`sluice start --takeover`): share its listener ports
   * (SO_REUSEPORT) instead of refusing them, and once these workers listen, tell it to drain.
   */
  readonly takeover?: boolean;
}

/**
 * The primary process: load + compile the config, start the workers, serve admin, and route
 * every reload source (SIGHUP, file change, POST /reload) through the same validate → compile →
 * publish path. A rejected config is logged with every problem and the running one stays.
 */
export async function runGateway(file: string, env: NodeJS.ProcessEnv = process.env, options: StartOptions = {}): Promise<RunningGateway> {
  clearStaleCopies();
  const first = loadPlanFile(file, env, 1);
  const log = createLogger(first.plan.log.level, { role: 'primary' }, first.plan.log.mask);
  warnUnverifiedTls(log, first.plan);
  warnCertificates(log, first.warnings);
  loadUws(); // fail here, in the primary, rather than once per worker
  const predecessor = options.takeover ? await findPredecessor(first.plan.admin.host, first.plan.admin.port) : null;
  const ports: number[] = [];
  // A port the predecessor holds is shared with it for the overlap; any other is claimed as usual.
  for (const l of first.plan.listeners) ports.push(predecessor !== null && l.port !== 0 ? l.port : await claimPort(l.host, l.port));
  const port = ports[0];
  // Listener settings are fixed for the life of the process: every generation keeps these (but a
  // TLS listener takes each generation's certificates, see pinListeners).
  const fixed = {
    listeners: first.plan.listeners.map((l, i) => ({ ...l, port: ports[i] })),
    admin: { host: first.plan.admin.host, port: first.plan.admin.port },
    workers: first.plan.workers,
  };
  // Stages' shared tables are made once, from the first config: a reload cannot resize them.
  const tableBytes = stageTableBytes(first.plan.stageSettings);
  const pin = (plan: CompiledPlan): CompiledPlan => {
    const bytes = stageTableBytes(plan.stageSettings);
    const resized = Object.keys(bytes).filter((kind) => JSON.stringify(bytes[kind]) !== JSON.stringify(tableBytes[kind]));
    const keys = resized.map((kind) => stageFactory(kind).settings?.key ?? kind);
    if (keys.length > 0) log.warn({ settings: keys, in_force: resized.map((k) => tableBytes[k]) }, `${keys.join(', ')}: table sizes take effect on restart`);
    // The admin token is not fixed: a reload that changes it applies to the next admin request.
    return {
      ...plan,
      ...fixed,
      admin: { ...plan.admin, host: fixed.admin.host, port: fixed.admin.port },
      listeners: pinListeners(fixed.listeners, plan.listeners),
    };
  };

  const shared = createSharedState(tableBytes);
  const services = new StageServices(stageRegistry, log);
  const health = new EndpointHealth(shared.endpointTable);
  const upstreamTable = new UpstreamTable(shared.upstreamTable);
  const rows = new EndpointRows(health, upstreamTable, log);
  const checker = new ActiveHealthChecker(health, log);
  let draining = false;
  let lastText = hashOf(file);
  let generation = 1;
  const startedAt = Date.now();
  const reloads: ReloadCounts = { ok: 0, failed: 0, lastOk: true };
  let reloading: Promise<unknown> = Promise.resolve();
  /** The config's plan; what workers get adds discovered endpoints and table rows (bind). */
  let configured = pin(first.plan);
  /** The validated config behind `configured` (GET /config), and how the last reload went. */
  let configuredConfig = first.config;
  let lastReload: ReloadOutcome | null = null;
  let published: CompiledPlan;
  let boundChanges = -1;
  const bind = (plan: CompiledPlan): CompiledPlan => {
    boundChanges = discovery.changes;
    published = rows.bind(plan, discovery.endpoints);
    checker.reconcile(published);
    return published;
  };
  // Serialised with reloads: a discovery change republishes the running config with the new endpoints.
  let workersUp = false;
  let republishQueued = false;
  // A burst of discovery changes (an etcd watch batch, a deploy) becomes one publish of the latest lists.
  const republish = () => {
    if (republishQueued) return;
    republishQueued = true;
    reloading = reloading
      .then(() => new Promise((r) => setTimeout(r, REPUBLISH_COALESCE_MS)))
      .then(async () => {
        republishQueued = false;
        if (draining || !workersUp || discovery.changes === boundChanges) return;
        generation++;
        await supervisor.publish(bind({ ...configured, generation }));
      })
      .catch((err) => log.error({ err, code: 'SLUICE_ERR_DISCOVERY' }, 'discovered endpoints not applied'));
  };
  const discovery = new Discovery(log, republish);
  await discovery.reconcile(configured.upstreams, DISCOVERY_FIRST_WAIT_MS);
  const firstBound = bind(configured);
  services.configure(configured);
  const supervisor = new Supervisor(firstBound, shared, log, () => Object.fromEntries(services.latest));
  services.onPublish = (kind, value) => supervisor.publishService(kind, value);
  supervisor.onServiceSignal = (kind, value) => services.signal(kind, value);
  const sweeper = setInterval(() => rows.sweep(published, nowMs()), SWEEP_MS);
  sweeper.unref();
  const stopBackground = async () => {
    discovery.close();
    clearInterval(sweeper);
    await Promise.all([checker.close(), services.close()]);
  };

  const reload = (source: string) => {
    const next = reloading.then(() => reloadOnce(source));
    reloading = next.catch(() => {});
    return next;
  };
  const reloadOnce = async (source: string) => {
    lastText = hashOf(file);
    try {
      const loaded = loadPlanFile(file, env, generation + 1, { adminHost: fixed.admin.host, certificates: certificatesInForce(configured.listeners) });
      warnFixedChanges(log, fixed, loaded.plan);
      warnLogMaskChange(log, first.plan, loaded.plan);
      warnUnverifiedTls(log, loaded.plan);
      warnCertificates(log, loaded.warnings);
      await discovery.reconcile(loaded.plan.upstreams, DISCOVERY_FIRST_WAIT_MS);
      const pinned = pin(loaded.plan);
      const next = bind(pinned);
      // Only a config that is accepted whole reaches the services (bind can still refuse it).
      services.configure(pinned);
      generation++;
      const previous = configured;
      configured = pinned;
      configuredConfig = loaded.config;
      lastReload = { result: 'ok', source, at: new Date().toISOString(), generation, code: null, problems: 0 };
      await supervisor.publish({ ...next, generation });
      // A worker that has not switched yet may still build from the previous plan's copies: keep those too.
      keepOnlyCopies(new Set([...tlsCopies(previous.listeners), ...tlsCopies(pinned.listeners)]));
      tlsWatch.watch(tlsFiles(pinned.listeners));
      log.info({ source, generation }, 'config reloaded');
      reloads.ok++;
      reloads.lastOk = true;
      return { ok: true as const, generation };
    } catch (err) {
      const issues = err instanceof ConfigError ? err.issues.map(formatConfigIssue) : [(err as Error).message];
      const code = err instanceof GatewayError ? err.code : 'SLUICE_ERR_INTERNAL';
      log.error({ source, code, issues }, 'config rejected; the running config stays in force');
      reloads.failed++;
      reloads.lastOk = false;
      lastReload = { result: 'failed', source, at: new Date().toISOString(), generation, code, problems: issues.length };
      return { ok: false as const, code, issues };
    }
  };

  try {
    await supervisor.start();
  } catch (err) {
    await stopBackground();
    throw err;
  }
  workersUp = true;
  // Changes discovered while the workers were starting (republish skips when there were none).
  republish();
  if (predecessor !== null) {
    // Only now that every worker listens: from here on the predecessor may stop accepting.
    signalHandover(predecessor);
    log.info({ from_pid: predecessor.pid }, 'taking over: the previous sluice drains');
  }
  let admin: Server;
  try {
    admin = await startAdminRetrying(predecessor !== null, first.plan.admin.host, first.plan.admin.port, {
      get ready() {
        return supervisor.ready && !draining;
      },
      get draining() {
        return draining;
      },
      get generation() {
        return generation;
      },
      get tokenDigest() {
        return configured.admin.tokenDigest;
      },
      reload: () => reload('admin'),
      upstreams: () => describeUpstreams(published, health, upstreamTable),
      scrape: () => scrape({ supervisor, plan: () => published, health, table: upstreamTable, discovery: discovery.status, reloads, startedAt }),
      config: () => describeConfig(configuredConfig, file, generation, lastReload),
      routes: () => describeRoutes(published),
    });
  } catch (err) {
    const where = `admin ${first.plan.admin.host}:${first.plan.admin.port}`;
    await stopBackground();
    if (predecessor === null) {
      await supervisor.drain(0);
      throw new GatewayError('SLUICE_ERR_PORT_IN_USE', `(${where})`, { cause: err });
    }
    // These workers already serve: let their requests finish, as any drain does, before giving up.
    const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
    const holder = inUse ? ownerOf(listenInodes(first.plan.admin.host, first.plan.admin.port)) : null;
    const why = inUse
      ? `${where} still held by ${holder === null ? 'an unknown process' : `pid ${holder}`} after ${ADMIN_WAIT_MS} ms (another --takeover at once?)`
      : `${where} cannot be bound: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    log.error(
      { code: 'SLUICE_ERR_PORT_IN_USE', admin_port: first.plan.admin.port, holder_pid: holder, drain_ms: first.plan.timeouts.drainMs },
      `takeover failed: ${why}; draining`,
    );
    await supervisor.drain(first.plan.timeouts.drainMs);
    flushLogger(log);
    throw new GatewayError('SLUICE_ERR_PORT_IN_USE', `(--takeover: ${why}; this process drained and stops)`, { cause: err });
  }
  const adminPort = (admin.address() as { port: number }).port;

  const watcher = watchFiles(CONFIG_SETTLE_MS, () => {
    if (!draining && hashOf(file) !== lastText) void reload('file');
  });
  watcher.watch([file]);
  // A changed certificate or key is a reload: the same checks, and a bad pair leaves the running one.
  const tlsWatch = watchFiles(TLS_SETTLE_MS, () => {
    if (!draining) void reload('certificate');
  });
  tlsWatch.watch(tlsFiles(configured.listeners));
  const onHup = () => void reload('SIGHUP');
  process.on('SIGHUP', onHup);

  const shutdown = async (reason: string, handover = false) => {
    if (draining) return;
    draining = true;
    watcher.close();
    tlsWatch.close();
    process.off('SIGHUP', onHup);
    log.info({ reason, drain_ms: first.plan.timeouts.drainMs, handover }, 'draining');
    // A successor serves /readyz on this port as soon as it is free; a plain drain keeps answering 503.
    const adminClosed = handover ? closeAdmin(admin) : null;
    await stopBackground();
    const abandoned = await supervisor.drain(first.plan.timeouts.drainMs);
    await (adminClosed ?? closeAdmin(admin));
    log.info({ abandoned }, 'stopped');
    flushLogger(log);
  };

  log.info({ port, ports, admin_port: adminPort, workers: first.plan.workers, generation, config: file, gc: gcMode() }, 'sluice ready');
  return { port, adminPort, shutdown };
}

function closeAdmin(admin: Server): Promise<unknown> {
  const closed = new Promise((r) => admin.close(r));
  admin.closeIdleConnections();
  return closed;
}

/** A successor binds the admin port its predecessor releases on SIGUSR2: retried, bounded. */
async function startAdminRetrying(retry: boolean, host: string, port: number, target: Parameters<typeof startAdmin>[2]): Promise<Server> {
  const until = Date.now() + ADMIN_WAIT_MS;
  for (;;) {
    try {
      return await startAdmin(host, port, target);
    } catch (err) {
      if (!retry || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, ADMIN_RETRY_MS));
    }
  }
}

/** At start and on reload, how long to wait for a new discovery source's first answer. */
const DISCOVERY_FIRST_WAIT_MS = 3000;
const REPUBLISH_COALESCE_MS = 50;
/** An editor's save can be several writes: one reload for them. */
const CONFIG_SETTLE_MS = 250;
/** A certificate and its key are often written one after the other: one reload for both. */
const TLS_SETTLE_MS = 100;
const SWEEP_MS = 5000;

function hashOf(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return '';
  }
}

/**
 * The listeners of the first config, each TLS one with this generation's certificates: they are what
 * a reload may change of a listener (a certificate file changing is itself a reload).
 */
function pinListeners(fixed: readonly ListenerPlan[], next: readonly ListenerPlan[]): ListenerPlan[] {
  return fixed.map((f, i) => (f.tls !== null && next[i]?.tls != null ? { ...f, tls: next[i].tls } : f));
}

function listenersChanged(fixed: readonly ListenerPlan[], next: readonly ListenerPlan[]): boolean {
  if (fixed.length !== next.length) return true;
  return next.some((l, i) => {
    const f = fixed[i];
    return l.host !== f.host || (l.port !== 0 && l.port !== f.port) || (l.tls === null) !== (f.tls === null) || l.redirectTo !== f.redirectTo;
  });
}

function warnFixedChanges(
  log: Logger,
  fixed: Pick<CompiledPlan, 'listeners' | 'workers'> & { admin: { host: string; port: number } },
  plan: CompiledPlan,
): void {
  const changed = [
    listenersChanged(fixed.listeners, plan.listeners) ? 'listen' : '',
    plan.admin.host !== fixed.admin.host || (plan.admin.port !== 0 && plan.admin.port !== fixed.admin.port) ? 'admin' : '',
    plan.workers !== fixed.workers ? 'workers' : '',
  ].filter(Boolean);
  if (changed.length > 0) log.warn({ fields: changed }, 'these fields take effect only after a restart');
}

/** The structured loggers' redaction is built when each thread starts (observe/log.ts); the access line's masking follows reloads. */
function warnLogMaskChange(log: Logger, first: CompiledPlan, plan: CompiledPlan): void {
  const was = first.log.mask;
  const now = plan.log.mask;
  const changed = [
    was.headers.join('\n') !== now.headers.join('\n') ? 'log.mask.headers' : '',
    was.jsonFields.join('\n') !== now.jsonFields.join('\n') ? 'log.mask.json_fields' : '',
  ].filter(Boolean);
  if (changed.length > 0)
    log.warn({ fields: changed }, 'structured log lines mask by these fields as they were at start until a restart; access lines follow the reload');
}

/** tls.verify: false is allowed (tests, a lab) but never silent. */
function warnUnverifiedTls(log: Logger, plan: CompiledPlan): void {
  const unverified = plan.upstreams.filter((u) => u.tls?.verify === false).map((u) => u.name);
  if (unverified.length > 0)
    log.warn({ upstreams: unverified }, 'tls.verify is false: these upstreams accept any certificate, so their traffic can be read and changed on the way');
}

/** A certificate in force that is expired, not yet valid or about to expire is served, but never silently. */
function warnCertificates(log: Logger, warnings: readonly ConfigIssue[]): void {
  if (warnings.length > 0)
    log.warn({ code: 'SLUICE_ERR_TLS_PAIR', issues: warnings.map(formatConfigIssue) }, 'certificate in force is expired, not yet valid or expiring soon');
}
