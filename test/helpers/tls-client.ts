import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';

/** What a TLS test wants to know of one exchange: the answer and the handshake it rode on. */
export interface TlsReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Subject CN of the certificate the gateway presented. */
  readonly peerCn: string;
  readonly protocol: string | null;
  readonly alpn: string | false | null;
}

export interface TlsRequestOptions
  extends Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'minVersion' | 'maxVersion' | 'ALPNProtocols' | 'ciphers' | 'rejectUnauthorized'> {
  /** SNI name; absent: none is sent (the client connects to an IP address). */
  readonly servername?: string;
  readonly path?: string;
  /** Host header; default the servername or 127.0.0.1. */
  readonly host?: string;
  /** Check that the certificate names the server (default: only that it chains to `ca`). */
  readonly checkName?: boolean;
}

/** One HTTPS request over a fresh connection to 127.0.0.1:port; rejects with the TLS error when the handshake fails. */
export function tlsRequest(port: number, o: TlsRequestOptions): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: o.path ?? '/',
        headers: { host: o.host ?? o.servername ?? '127.0.0.1' },
        agent: false,
        timeout: 10_000,
        servername: o.servername ?? '',
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        minVersion: o.minVersion,
        maxVersion: o.maxVersion,
        ciphers: o.ciphers,
        ALPNProtocols: o.ALPNProtocols,
        rejectUnauthorized: o.rejectUnauthorized,
        ...(o.checkName === true ? {} : { checkServerIdentity: () => undefined }),
      } as RequestOptions,
      (res) => {
        const socket = res.socket as TLSSocket;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            peerCn: String(socket.getPeerCertificate().subject?.CN ?? ''),
            protocol: socket.getProtocol(),
            alpn: socket.alpnProtocol,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A kept-alive TLS connection that sends GETs one at a time (answers must carry Content-Length). */
export interface TlsConnection {
  readonly peerCn: string;
  get(path: string, host?: string): Promise<{ status: number; body: string }>;
  close(): void;
}

export function tlsConnection(port: number, o: TlsRequestOptions): Promise<TlsConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: o.servername,
      ca: o.ca,
      checkServerIdentity: () => undefined,
    });
    let buffered: Buffer = Buffer.alloc(0);
    let waiting: ((b: Buffer) => void) | null = null;
    socket.on('data', (c: Buffer) => {
      buffered = Buffer.concat([buffered, c]);
      waiting?.(buffered);
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      resolve({
        peerCn: String(socket.getPeerCertificate().subject?.CN ?? ''),
        get(path, host = o.servername ?? '127.0.0.1') {
          return new Promise((done, fail) => {
            socket.once('error', fail);
            socket.once('close', () => fail(new Error('connection closed')));
            waiting = (b) => {
              const end = b.indexOf('\r\n\r\n');
              if (end === -1) return;
              const head = b.subarray(0, end).toString('latin1');
              const length = Number(/\r\ncontent-length: *([0-9]+)/i.exec(head)?.[1] ?? 0);
              if (b.length < end + 4 + length) return;
              waiting = null;
              buffered = b.subarray(end + 4 + length);
              socket.removeAllListeners('close');
              done({ status: Number(head.slice(9, 12)), body: b.subarray(end + 4, end + 4 + length).toString() });
            };
            socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
          });
        },
        close: () => socket.destroy(),
      });
    });
  });
}
