import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssOf, startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Bodies stream through with backpressure both ways: RSS stays far below the body size.
const GiB = Number(process.env.SLUICE_TEST_GIB ?? 1) * 1024 ** 3;
const MiB = 1024 ** 2;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

let up: TestUpstream;
let gw: TestGateway;
let uploaded = 0;

/** Writes `total` bytes to a writable, respecting its backpressure. */
async function pump(w: NodeJS.WritableStream, total: number): Promise<void> {
  for (let sent = 0; sent < total; sent += CHUNK.length) {
    const part = sent + CHUNK.length <= total ? CHUNK : CHUNK.subarray(0, total - sent);
    if (!w.write(part)) await new Promise((r) => w.once('drain', r));
  }
  w.end();
}

before(async () => {
  up = await startUpstream((req, res) => {
    const size = Number(new URL(req.url!, 'http://x').searchParams.get('size') ?? 0);
    if (req.method === 'POST') {
      uploaded = 0;
      req.on('data', (c: Buffer) => {
        uploaded += c.length;
      });
      req.on('end', () => res.end(String(uploaded)));
      return;
    }
    const chunked = req.url!.includes('chunked');
    res.writeHead(200, chunked ? {} : { 'content-length': String(size) });
    void pump(res, size);
  });
  gw = await startGateway(
    `
limits: { max_body_bytes: ${2 * GiB} }
upstreams:
  u: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: all, match: { prefix: / }, upstream: u }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await up.close();
});

/** Download through the gateway, counting bytes; `pauseMs` makes the client stall before reading. */
function download(path: string, pauseMs = 0): Promise<{ bytes: number; peakRss: number }> {
  return new Promise((resolve, reject) => {
    let peakRss = rssOf(gw.proc.pid!);
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssOf(gw.proc.pid!));
    }, 100);
    const req = httpRequest(gw.url(path), { agent: false }, (res) => {
      let bytes = 0;
      if (pauseMs > 0) {
        res.pause();
        setTimeout(() => res.resume(), pauseMs);
      }
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => {
        clearInterval(sampler);
        resolve({ bytes, peakRss });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('a 1 GiB download with Content-Length streams through with bounded memory', async () => {
  const base = rssOf(gw.proc.pid!);
  const { bytes, peakRss } = await download(`/file?size=${GiB}`);
  assert.equal(bytes, GiB);
  assert.ok(peakRss - base < 200 * MiB, `RSS grew by ${((peakRss - base) / MiB).toFixed(0)} MiB`);
});

test('a chunked (unknown length) download streams too', async () => {
  const { bytes } = await download(`/file-chunked?size=${256 * MiB}`);
  assert.equal(bytes, 256 * MiB);
});

test('a slow client does not make the worker buffer the upstream response', async () => {
  const base = rssOf(gw.proc.pid!);
  const { bytes, peakRss } = await download(`/file?size=${512 * MiB}`, 2000);
  assert.equal(bytes, 512 * MiB);
  assert.ok(peakRss - base < 150 * MiB, `RSS grew by ${((peakRss - base) / MiB).toFixed(0)} MiB while the client stalled`);
});

// uWS 20.30 accepts at most 9 Content-Length digits: 999,999,999 bytes is the largest upload (docs/security.md).
const MAX_UPLOAD = Math.min(999_999_999, GiB);

test('a ~1 GB upload (the largest uWS accepts) streams to the upstream with bounded memory', async () => {
  const base = rssOf(gw.proc.pid!);
  let peakRss = base;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(gw.proc.pid!));
  }, 100);
  const answer = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(gw.url('/upload'), { method: 'POST', agent: false, headers: { 'content-length': String(MAX_UPLOAD) } }, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    void pump(req, MAX_UPLOAD);
  });
  clearInterval(sampler);
  assert.equal(answer, String(MAX_UPLOAD));
  assert.ok(peakRss - base < 200 * MiB, `RSS grew by ${((peakRss - base) / MiB).toFixed(0)} MiB`);
});

test('memory returns to where it was (no per-request leak)', async () => {
  await sleep(500);
  assert.ok(rssOf(gw.proc.pid!) < 400 * MiB);
});
