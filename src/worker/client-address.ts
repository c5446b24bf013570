import { type CidrSet, cidrContains, containsLast, lastAddressText, parseAddress } from '../http/cidr.js';

/** What the front door decides about who sent a request, written into the exchange. */
export interface ClientFields {
  peerAddress: string;
  clientAddress: string;
  forwardedFor: string;
  peerTrusted: boolean;
  readonly rawHeaders: readonly string[];
}

/**
 * Decide the client's address (docs/network-policy.md). Forwarding headers are believed only from a
 * peer in trusted_proxies: then its X-Forwarded-For entries are walked right to left past trusted
 * addresses, and the first untrusted one is the client. An entry that is not a plain IP address stops the walk: the client is
 * then the last address that was good. From any other peer, the peer is the client.
 *
 * `forwardedFor` is the X-Forwarded-For sent upstream: the checked part of the chain only (from the
 * client to the peer, as parsed addresses), so nothing a client wrote reaches the upstream as if it were true.
 *
 * Hot path: an untrusted peer costs one address parse; the walk allocates only the strings it keeps.
 * The PROXY protocol source uWS parses (getProxiedRemoteAddress) is never read: a client can replace
 * it mid-connection on this uWS build (docs/network-policy.md, "PROXY protocol").
 */
export function decideClient(ex: ClientFields, peer: string, trusted: CidrSet): void {
  ex.peerAddress = peer;
  if ((trusted.v4.length === 0 && trusted.v6.length === 0) || !cidrContains(trusted, peer)) {
    ex.clientAddress = peer;
    ex.forwardedFor = peer;
    ex.peerTrusted = false;
    return;
  }
  ex.peerTrusted = true;
  let client = peer;
  let chain = peer;
  const xff = forwardedForHeader(ex.rawHeaders);
  let end = xff.length;
  while (end > 0) {
    const comma = xff.lastIndexOf(',', end - 1);
    let from = comma + 1;
    let to = end;
    end = comma;
    while (from < to && isSpace(xff.charCodeAt(from))) from++;
    while (to > from && isSpace(xff.charCodeAt(to - 1))) to--;
    if (from === to) continue; // an empty list element is no entry (RFC 9110 §5.6.1)
    const family = parseEntry(xff, from, to);
    if (family === 0) break;
    client = lastAddressText(family);
    // Rebuilt from the parsed addresses, so the upstream reads the same text the ip: policy and the log do.
    chain = `${client}, ${chain}`;
    if (!containsLast(trusted, family)) break;
  }
  ex.clientAddress = client;
  ex.forwardedFor = chain;
}

/**
 * One X-Forwarded-For entry: an address, or one with the client's port as some load balancers write
 * it (`203.0.113.7:443`, `[2001:db8::7]:443`). Without this such a list would stop the walk at once
 * and every client would be taken for the proxy.
 */
function parseEntry(xff: string, from: number, to: number): 0 | 4 | 6 {
  const family = parseAddress(xff, from, to);
  if (family !== 0) return family;
  const colon = xff.lastIndexOf(':', to - 1);
  if (colon <= from || !isPort(xff, colon + 1, to)) return 0;
  if (xff.charCodeAt(from) === 0x5b) return xff.charCodeAt(colon - 1) === 0x5d ? parseAddress(xff, from, colon) : 0;
  return parseAddress(xff, from, colon) === 4 ? 4 : 0;
}

function isPort(text: string, from: number, to: number): boolean {
  if (to - from < 1 || to - from > 5) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Every X-Forwarded-For header, in order, joined with ", " (RFC 9110 §5.3). */
function forwardedForHeader(h: readonly string[]): string {
  let out = '';
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] === 'x-forwarded-for') out = out === '' ? h[i + 1] : `${out}, ${h[i + 1]}`;
  }
  return out;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
