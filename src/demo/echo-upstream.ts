import { createServer, type Server } from 'node:http';

/**
 * The demo upstream behind `npm start`: answers every request with what it received (method, path,
 * query, headers, body size) as JSON, so a newcomer can see exactly what sluice forwarded.
 */
export function startEchoUpstream(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://echo.invalid');
      const body =
        JSON.stringify(
          {
            upstream: `${host}:${port}`,
            method: req.method,
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            headers: req.headers,
            body_bytes: bytes,
          },
          null,
          2,
        ) + '\n';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
