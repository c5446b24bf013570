import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

/** A 127.0.0.1 port whose SYNs go unanswered: what an unreachable endpoint looks like, without root. */
export interface Blackhole {
  readonly port: number;
  readonly origin: string;
  close(): Promise<void>;
}

// The listener lives on a thread that blocks right after listen(): nothing ever accepts, so once the
// kernel's accept queue (backlog + 1 on Linux) is full, further SYNs are dropped and a connect waits
// until the connecting side gives up. Blocked for at most 2 minutes; close() wakes it.
const LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData), 0, 0, 120000);
  server.close();
});
`;

/** Fill a never-accepting listener's queue, then hand out its port. */
export async function startBlackhole(): Promise<Blackhole> {
  const wake = new SharedArrayBuffer(4);
  const worker = new Worker(LISTENER, { eval: true, workerData: wake });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: Socket[] = [];
  // Connects complete while the queue has room; the first one left pending shows it is full.
  for (let k = 0; k < 16; k++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    async close() {
      for (const s of fillers) s.destroy();
      const flag = new Int32Array(wake);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}
