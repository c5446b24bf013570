import type { HttpResponse } from 'uWebSockets.js';
import { lastAddressText, parseAddress } from '../http/cidr.js';

/**
 * The peer's address as text. uWS gives IPv4 peers as IPv4-mapped IPv6 bytes; formatting those
 * four bytes here is several times cheaper than getRemoteAddressAsText() plus a decode.
 */
export function peerAddress(res: HttpResponse): string {
  const raw = new Uint8Array(res.getRemoteAddress());
  if (raw.length === 4) return ipv4(raw, 0);
  if (raw.length === 16 && raw[10] === 0xff && raw[11] === 0xff && isZero(raw, 10)) return ipv4(raw, 12);
  // uWS writes IPv6 in full (0000:…:0001); the canonical form (::1) is what trusted_proxies, ip: and logs compare.
  const text = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
  const family = parseAddress(text);
  return family === 0 ? text : lastAddressText(family);
}

/** Requests come in runs from the same peers (keep-alive): the last address's text is kept. */
let lastIpv4 = -1;
let lastIpv4Text = '';
function ipv4(b: Uint8Array, at: number): string {
  const n = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  if (n !== lastIpv4) {
    lastIpv4 = n;
    lastIpv4Text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
  }
  return lastIpv4Text;
}

function isZero(bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}
