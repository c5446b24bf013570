import type { AppOptions } from 'uWebSockets.js';
import type { TlsPlan } from '../compile/plan.js';

/**
 * TLS 1.3's cipher suites are fixed in BoringSSL (which this uWS build links) and `ssl_ciphers` sets
 * only the TLS 1.2 ones. Naming a single PSK suite leaves TLS 1.2 nothing to agree on: sluice
 * installs no PSK callback, so BoringSSL never selects it, and every TLS 1.2 handshake fails with a
 * handshake_failure alert. uWS has no option for a minimum version (measured: docs/tls.md).
 */
const NO_TLS12_SUITE = 'ECDHE-PSK-CHACHA20-POLY1305';

/**
 * TLS 1.2 suites when TLS 1.2 is allowed: ECDHE key exchange (forward secrecy) with AEAD ciphers
 * only, Mozilla's "intermediate" list. uSockets' default also accepts RSA key exchange and CBC with
 * SHA-1 (AES128-SHA and the like), which no current client needs.
 */
const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** One certificate's options for uWS (the default pair, or an SNI entry's). */
export function tlsOptions(plan: TlsPlan, cert: string, key: string): AppOptions {
  return {
    cert_file_name: cert,
    key_file_name: key,
    // With a CA file uWS asks for a client certificate and verifies one that is presented; it
    // cannot require one (docs/tls.md), which compile/listener.ts makes the config say.
    ...(plan.clientCa === null ? {} : { ca_file_name: plan.clientCa }),
    ssl_ciphers: plan.minVersion === 'TLSv1.3' ? NO_TLS12_SUITE : TLS12_SUITES,
  };
}
