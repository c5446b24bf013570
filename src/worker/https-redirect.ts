import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

/** A host name, IPv4 address or [IPv6] literal, with an optional port: nothing else goes into Location. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * The whole of a plain listener with `redirect_to_https`: every request gets 308 to the same host,
 * path and query on the TLS listener's port (308 keeps the method and body, unlike 301/302). The
 * request is not routed, proxied or logged. A request with a body is answered without reading it,
 * so that connection is closed after the answer rather than parsed on from inside the body
 * (end(…, true) makes uWS write `Connection: close` itself).
 */
export function redirectToHttps(res: HttpResponse, req: HttpRequest, port: number): void {
  const host = req.getHeader('host');
  const url = req.getUrl();
  const hasBody = req.getHeader('content-length') !== '' || req.getHeader('transfer-encoding') !== '';
  if (!HOST.test(host) || url.charCodeAt(0) !== 0x2f || hostHeaders(req) !== 1) {
    res.cork(() => res.writeStatus('400 Bad Request').end('', true));
    return;
  }
  const query = req.getQuery();
  const location = `https://${withoutPort(host)}${port === 443 ? '' : `:${port}`}${url}${query ? `?${query}` : ''}`;
  res.cork(() => {
    res.writeStatus('308 Permanent Redirect').writeHeader('location', location);
    res.end('', hasBody);
  });
}

/** Two Host headers make the target ambiguous (RFC 9112 §3.2: answer 400); getHeader sees only the first. */
function hostHeaders(req: HttpRequest): number {
  hostCount = 0;
  req.forEach(countHost);
  return hostCount;
}

let hostCount = 0;
const countHost = (name: string): void => {
  if (name === 'host') hostCount++;
};

function withoutPort(host: string): string {
  const colon = host.lastIndexOf(':');
  return colon > host.lastIndexOf(']') ? host.slice(0, colon) : host;
}
