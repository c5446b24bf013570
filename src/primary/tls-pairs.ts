import { createHash, type X509Certificate } from 'node:crypto';
import type { ListenerPlan } from '../compile/plan.js';
import type { SchemaProblem } from '../config/validate.js';
import { caProblem, checkPair, readText } from './pem-files.js';
import { copyPath, writeCopy } from './tls-copies.js';

const PAIR = 'SLUICE_ERR_TLS_PAIR: ';

/** A certificate this close to its end is reported at start and on every reload. */
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

export interface PairCheck {
  /**
   * The certificates the running config serves (their private copies: certificatesInForce), or null
   * at start, when every configured one is the one in force.
   */
  readonly inForce: ReadonlySet<string> | null;
  /** Certificates served although expired, not yet valid or expiring soon: logged, not refused. */
  readonly warnings: SchemaProblem[];
  readonly now?: number;
}

/**
 * Check every TLS listener's certificate files before any worker loads them: readable, the key
 * matching the certificate. A problem refuses the whole config (at start or on a reload, which a
 * changed certificate file triggers), so the pair in force stays in force.
 *
 * Validity dates refuse only a change: a reload that brings in an expired or not-yet-valid
 * certificate (new content, or a new path) is refused, but one already in force is served anyway and
 * warned about, at start and on each reload, as nginx does. Refusing it would take every listener
 * down at start and refuse every unrelated reload until the file is replaced.
 *
 * Workers never read the operator's files: each checked file is copied, as read, into a private
 * folder under a name made of its content, and the plan names those copies. A file changing again
 * between this check and a worker's load cannot reach uWS unchecked, which matters because uWS's
 * addServerName crashes the whole process on a key that does not match its certificate (docs/tls.md).
 * Returns the listeners with those paths and their `stamp` (a digest of the content and settings) filled in.
 */
export function checkTlsFiles(listeners: readonly ListenerPlan[], problems: SchemaProblem[], check: PairCheck): ListenerPlan[] {
  const now = check.now ?? Date.now();
  /** Content to copy once the whole config has passed: a rejected file is never copied. */
  const toCopy: string[] = [];
  const copyOf = (pem: string): string => {
    toCopy.push(pem);
    return copyPath(pem);
  };
  const checked = listeners.map((l) => {
    if (l.tls === null) return l;
    // The stamp is what tells a worker to rebuild this listener's SSLApp: it covers every setting
    // the app is built from, not only the files' content (a min_version or SNI name change alone
    // must rebuild it too).
    const digest = createHash('sha256').update(JSON.stringify([l.tls.minVersion, l.tls.sni.map((s) => s.hosts), l.tls.clientCa !== null]));
    const at = [...l.at, 'tls'];
    const pair = (cert: string, key: string, where: readonly (string | number)[]) => {
      const certPem = readText(cert, [...where, 'cert'], problems, PAIR);
      const keyPem = readText(key, [...where, 'key'], problems, PAIR);
      if (certPem === null || keyPem === null) return { cert, key };
      digest.update(certPem).update('\0').update(keyPem).update('\0');
      const x509Cert = checkPair(certPem, keyPem);
      if (typeof x509Cert === 'string') {
        problems.push({ path: [...where, 'cert'], message: `${PAIR}${cert}: ${x509Cert}` });
        return { cert, key };
      }
      const dates = validityProblem(x509Cert, now);
      if (dates !== null) {
        const inForce = check.inForce === null || check.inForce.has(copyPath(certPem));
        if (inForce) check.warnings.push({ path: [...where, 'cert'], message: `${PAIR}${cert}: ${dates}; served anyway: it is the one in force` });
        else problems.push({ path: [...where, 'cert'], message: `${PAIR}${cert}: ${dates}` });
      } else if (Date.parse(x509Cert.validTo) - now < EXPIRY_WARNING_DAYS * DAY_MS) {
        check.warnings.push({ path: [...where, 'cert'], message: `${PAIR}${cert}: the certificate expires on ${x509Cert.validTo}` });
      }
      return { cert: copyOf(certPem), key: copyOf(keyPem) };
    };
    const main = pair(l.tls.cert, l.tls.key, at);
    const sni = l.tls.sni.map((s, i) => ({ hosts: s.hosts, ...pair(s.cert, s.key, [...at, 'sni', i]) }));
    let clientCa = l.tls.clientCa;
    if (clientCa !== null) {
      const ca = readText(clientCa, [...at, 'client_ca'], problems, PAIR);
      const bad = ca === null ? null : caProblem(clientCa, ca);
      if (bad !== null) problems.push({ path: [...at, 'client_ca'], message: `${PAIR}${bad}` });
      if (ca !== null) {
        digest.update(ca);
        clientCa = copyOf(ca);
      }
    }
    if (problems.length > 0) return l;
    return { ...l, tls: { ...l.tls, ...main, sni, clientCa, stamp: digest.digest('hex').slice(0, 16) } };
  });
  if (problems.length > 0) return [...listeners];
  for (const pem of toCopy) writeCopy(pem);
  return checked;
}

/** Every private copy a plan's TLS listeners name: what must stay on disk while that plan may be loaded. */
export function tlsCopies(listeners: readonly ListenerPlan[]): string[] {
  return listeners.flatMap((l) =>
    l.tls === null ? [] : [l.tls.cert, l.tls.key, ...l.tls.sni.flatMap((s) => [s.cert, s.key]), ...(l.tls.clientCa === null ? [] : [l.tls.clientCa])],
  );
}

/** The certificates a plan's TLS listeners serve, as their private copies (named by content). */
export function certificatesInForce(listeners: readonly ListenerPlan[]): Set<string> {
  return new Set(listeners.flatMap((l) => (l.tls === null ? [] : [l.tls.cert, ...l.tls.sni.map((s) => s.cert)])));
}

/** Every file the TLS listeners' config names: what the primary watches. */
export function tlsFiles(listeners: readonly ListenerPlan[]): string[] {
  return [...new Set(listeners.flatMap((l) => l.tls?.sources ?? []))];
}

function validityProblem(cert: X509Certificate, now: number): string | null {
  if (Date.parse(cert.validFrom) > now) return `the certificate is not valid before ${cert.validFrom}`;
  if (Date.parse(cert.validTo) < now) return `the certificate expired on ${cert.validTo}`;
  return null;
}
