import { createSocket } from 'node:dgram';

export interface TestDns {
  readonly port: number;
  /** name → IPv4 addresses answered now (change it at will); other names get NXDOMAIN. */
  readonly records: Map<string, string[]>;
  close(): Promise<void>;
}

/**
 * A minimal authoritative DNS server over UDP on 127.0.0.1: answers A queries from `records`, so
 * discovery tests can change what a name resolves to. AAAA and other types get an empty answer.
 */
export async function startDns(): Promise<TestDns> {
  const records = new Map<string, string[]>();
  const sock = createSocket('udp4');
  sock.on('message', (q, rinfo) => {
    // Header (12 bytes), then one question: labels, type (2), class (2).
    let at = 12;
    const labels: string[] = [];
    while (q[at] !== 0) {
      labels.push(q.subarray(at + 1, at + 1 + q[at]).toString('ascii'));
      at += q[at] + 1;
    }
    const qEnd = at + 5;
    const type = q.readUInt16BE(at + 1);
    const name = labels.join('.').toLowerCase();
    const ips = records.get(name);
    const answers = type === 1 && ips !== undefined ? ips : [];
    const head = Buffer.alloc(12);
    head.writeUInt16BE(q.readUInt16BE(0), 0); // id
    head.writeUInt16BE(ips === undefined ? 0x8183 : 0x8180, 2); // response, RD+RA, NXDOMAIN or NOERROR
    head.writeUInt16BE(1, 4); // one question
    head.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(1, 6); // TTL 1 s
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
      return rr;
    });
    sock.send(Buffer.concat([head, q.subarray(12, qEnd), ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, records, close: () => new Promise((r) => sock.close(() => r())) };
}
