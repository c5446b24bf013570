import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isIP } from 'node:net';

/**
 * Which process holds a listening TCP socket, read from Linux's /proc: the socket's inode comes from
 * /proc/net/tcp{,6} (state 0A = LISTEN), and a process holds it when one of /proc/<pid>/fd/* links to
 * `socket:[inode]`. `sluice start --takeover` signals a pid only once this shows that pid really owns
 * the admin socket, so a stranger on the admin port cannot name a victim. Startup and error paths only.
 */

/** The inodes of LISTEN sockets on `port` whose local address is `host` (or any address). */
export function listenInodes(host: string, port: number): Set<string> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue; // no IPv6 table on a kernel built without it
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue;
      const [addrHex, localPort] = f[1].split(':');
      if (localPort === portHex && addressMatches(addrHex, host)) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** Null when `pid` holds one of `inodes`, else why that could not be shown. */
export function ownershipProblem(pid: number, inodes: Set<string>): string | null {
  if (process.platform !== 'linux') return `cannot check which process owns the port on ${process.platform} (needs Linux /proc)`;
  if (inodes.size === 0) return 'no listening socket found in /proc/net/tcp or /proc/net/tcp6';
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (err) {
    return `cannot read /proc/${pid}/fd (${(err as NodeJS.ErrnoException).code}): is pid ${pid} running as another user?`;
  }
  return fds.some((fd) => inodes.has(socketInode(`/proc/${pid}/fd/${fd}`))) ? null : `pid ${pid} does not own that listening socket`;
}

/** The pid of a process (readable by this user) that holds one of `inodes`, or null. Error paths only. */
export function ownerOf(inodes: Set<string>): number | null {
  if (inodes.size === 0) return null;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return null;
  }
  for (const pid of pids) if (ownershipProblem(Number(pid), inodes) === null) return Number(pid);
  return null;
}

function socketInode(fdPath: string): string {
  try {
    const target = readlinkSync(fdPath);
    return target.startsWith('socket:[') ? target.slice(8, -1) : '';
  } catch {
    return ''; // closed since readdir
  }
}

/**
 * /proc/net/tcp writes an address as 32-bit words in host (little-endian) order: 127.0.0.1 is
 * 0100007F. A wildcard address (0.0.0.0, ::) matches any host; a host name matches any address.
 */
function addressMatches(addrHex: string, host: string): boolean {
  if (/^0+$/.test(addrHex) || isIP(host) === 0) return true;
  return addrHex === addressHex(host);
}

function addressHex(ip: string): string {
  const bytes = isIP(ip) === 4 ? ip.split('.').map(Number) : ipv6Bytes(ip);
  let hex = '';
  for (let w = 0; w < bytes.length; w += 4) for (let b = w + 3; b >= w; b--) hex += bytes[b].toString(16).toUpperCase().padStart(2, '0');
  return hex;
}

function ipv6Bytes(ip: string): number[] {
  const [head, tail = ''] = ip.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}
