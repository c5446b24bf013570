import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';

/**
 * Reading and checking the PEM files a config names, shared by every part of the plan that names
 * one (upstream TLS, listener TLS, the admin token file). Messages name the file, never what is in it.
 */

/** The file's text, or null with a problem at `path`; `code` prefixes the message (a SLUICE_ERR_* code). */
export function readText(file: string, path: ConfigPath, problems: SchemaProblem[], code = ''): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ path, message: `${code}cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return null;
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Why this CA bundle cannot be used, or null: every certificate in it must parse (OpenSSL would skip one silently). */
export function caProblem(file: string, pem: string): string | null {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) return `${file} holds no PEM certificate`;
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `${file}: certificate ${i + 1} does not parse (${(err as Error).message})`;
    }
  }
  return null;
}

/** Why this certificate (leaf first) and key are not a pair, or the certificate when they are. */
export function checkPair(certPem: string, keyPem: string): string | X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'not a PEM certificate';
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return 'the key file holds no unencrypted PEM private key';
  }
  if (!cert.checkPrivateKey(key)) return 'the key does not match the certificate';
  return cert;
}
