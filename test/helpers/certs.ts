import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Throwaway certificates for TLS tests, made at test time with the openssl command (Debian's
 * `openssl` package; .ci/run installs it): no private key beyond the old upstream fixture is committed.
 * Every file lives in one temporary folder that `remove()` deletes.
 */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface CertOptions {
  /** Subject CN; default the first name. */
  readonly cn?: string;
  /** DNS names (`*.example.com` allowed) and IP addresses for subjectAltName. */
  readonly names?: readonly string[];
  /** Sign with this CA; default self-signed. */
  readonly ca?: CertFiles;
  /** Valid from this many days ago (negative = not yet valid) ... */
  readonly startDays?: number;
  /** ... for this many days (a start in the past with fewer days makes an expired certificate). */
  readonly days?: number;
  /** 'rsa' (2048 bits, default) or 'ec' (P-256). */
  readonly keyType?: 'rsa' | 'ec';
  /** A client certificate (extendedKeyUsage clientAuth) instead of a server one. */
  readonly client?: boolean;
}

export interface CertDir {
  readonly dir: string;
  /** A CA that can sign the others. */
  ca(name: string, cn?: string): CertFiles;
  /** A leaf certificate and its key, written as NAME.pem and NAME-key.pem. */
  cert(name: string, options?: CertOptions): CertFiles;
  remove(): void;
}

export function certDir(): CertDir {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-certs-'));
  // `openssl ca` because it alone (in OpenSSL 3.0) takes exact validity dates: expired and
  // not-yet-valid certificates are test cases.
  writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = (key: string, type: 'rsa' | 'ec') =>
    openssl([
      'genpkey',
      '-algorithm',
      type === 'ec' ? 'EC' : 'RSA',
      '-pkeyopt',
      type === 'ec' ? 'ec_paramgen_curve:P-256' : 'rsa_keygen_bits:2048',
      '-out',
      key,
    ]);
  const filesFor = (name: string): CertFiles => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) });

  return {
    dir,
    ca(name, cn = `${name} test CA`) {
      const files = filesFor(name);
      newKey(files.key, 'ec');
      openssl([
        'req',
        '-x509',
        '-new',
        '-key',
        files.key,
        '-out',
        files.cert,
        '-days',
        '3',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ]);
      return files;
    },
    cert(name, o = {}) {
      const names = o.names ?? ['localhost', '127.0.0.1'];
      const files = filesFor(name);
      const csr = join(dir, `${name}.csr`);
      newKey(files.key, o.keyType ?? 'rsa');
      const san = names.map((n) => (/^[0-9.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
      const usage = o.client === true ? 'clientAuth' : 'serverAuth';
      openssl([
        'req',
        '-new',
        '-key',
        files.key,
        '-out',
        csr,
        '-subj',
        `/CN=${o.cn ?? names[0] ?? name}`,
        '-addext',
        `subjectAltName=${san}`,
        '-addext',
        `extendedKeyUsage=${usage}`,
      ]);
      const start = new Date(Date.now() - (o.startDays ?? 1) * 86_400_000);
      const end = new Date(start.getTime() + (o.days ?? 3) * 86_400_000);
      const signer = o.ca === undefined ? ['-selfsign', '-keyfile', files.key] : ['-cert', o.ca.cert, '-keyfile', o.ca.key];
      openssl([
        'ca',
        '-batch',
        '-notext',
        '-config',
        'ca.cnf',
        ...signer,
        '-in',
        csr,
        '-out',
        files.cert,
        '-startdate',
        asn1Time(start),
        '-enddate',
        asn1Time(end),
      ]);
      return files;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CA_CONFIG = `[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
copy_extensions = copy
unique_subject = no
[any_name]
commonName = supplied
`;

/** openssl's YYYYMMDDHHMMSSZ. */
function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
