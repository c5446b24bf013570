/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus Expect (sluice
 * does not relay 100-continue). Never forwarded in either direction; Connection's own tokens are removed too.
 */
export const HOP_BY_HOP_NAMES: readonly string[] = [
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
  'expect',
];
const HOP_BY_HOP = new Set(HOP_BY_HOP_NAMES);

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

/** Lower-cased header names listed in a Connection value ("close, x-foo" → ["close", "x-foo"]). */
export function connectionTokens(value: string | undefined): string[] | null {
  if (value === undefined || value === '' || value === 'close' || value === 'keep-alive') return null;
  return value
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}
