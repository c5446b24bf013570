import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Client } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startRawUpstream, type TestUpstream } from '../helpers/upstream.js';
import { RESPONSE_CORPUS, type ResponseCase } from '../upstream/response-corpus.js';

// Issue 21: every case of the corpus goes (a) from undici (llhttp, a strict and much-used parser) to a
// raw upstream replaying the case's bytes, and (b) through the real gateway to the same upstream.
// Wherever undici errors, sluice must fail the request too (502, or a cut connection when the head was
// already relayed), unless EXPECTED_DIFFERENCES says why not; wherever sluice relays an answer, the
// client must see the status and body bytes undici parsed. Where sluice refuses what undici accepts,
// sluice is the stricter one: allowed, and listed in the printed table (docs/security.md has it).

/** Cases where undici errors and sluice relays an answer, and why that is right. */
const EXPECTED_DIFFERENCES: Readonly<Record<string, string>> = {
  '100 Continue, then 200':
    'RFC 9110 §15.2: a client must parse 1xx answers it did not expect; undici refuses a 100 to a request without Expect. sluice reads past it.',
  'two 1xx, then 200': 'as above: the first is a 100',
  '304 with Content-Length, no body':
    "RFC 9110 §8.6: a 304's Content-Length is the selected representation's; undici compares it with the (empty) body, for 204 and 304 alike.",
  '304 with a body': 'as above; sluice relays no body for a 304 (RFC 9112 §6.3) and closes the connection, so the stray bytes are never read as an answer',
};

/** What a client saw: an answer (status and body as latin1), or a failure. */
type Outcome = { ok: true; status: number; body: string } | { ok: false; what: string };

/** Both sides use the same head limit, so an oversized head means the same to each. */
const HEAD_LIMIT = 16384;

let upstream: TestUpstream;
let gw: TestGateway;

/** The replaying upstream: the request's path names the case; its bytes go back, then the close. */
function replay(s: Socket): void {
  let got = '';
  s.on('data', (chunk: Buffer) => {
    got += chunk.toString('latin1');
    const end = got.indexOf('\r\n\r\n');
    if (end < 0 || s.writableEnded) return;
    const path = got.slice(0, got.indexOf('\r\n')).split(' ')[1];
    const c = RESPONSE_CORPUS[Number(path.split('/')[2])];
    if (c.hold) s.write(Buffer.from(c.bytes, 'latin1'));
    else s.end(Buffer.from(c.bytes, 'latin1'));
  });
}

before(async () => {
  upstream = await startRawUpstream(replay);
  gw = await startGateway(
    `
limits: { upstream_header_bytes: ${HEAD_LIMIT}, upstream_header_count: 100 }
timeouts: { response_header_ms: 3000, idle_ms: 3000 }
upstreams:
  replay: { endpoints: [ { url: "${upstream.origin}" } ] }
routes:
  - { name: replay, match: { prefix: /case/ }, upstream: replay, retries: { attempts: 1 } }
`,
    { SLUICE_WORKERS: '1' },
  );
});

after(async () => {
  assert.equal(await gw.stop(), 0);
  await upstream.close();
});

async function viaUndici(k: number, c: ResponseCase): Promise<Outcome> {
  const client = new Client(upstream.origin, { maxHeaderSize: HEAD_LIMIT, headersTimeout: 3000, bodyTimeout: 3000 });
  try {
    const r = await client.request({ path: `/case/${k}`, method: c.method ?? 'GET' });
    const body = Buffer.from(await r.body.arrayBuffer()).toString('latin1');
    return { ok: true, status: r.statusCode, body };
  } catch (err) {
    return { ok: false, what: (err as { code?: string }).code ?? (err as Error).message };
  } finally {
    await client.destroy();
  }
}

/**
 * Through the gateway, over a fresh connection; a 502 the gateway made is a failure with its code.
 * Node's client takes heads up to 64 KiB here: the gateway adds its own headers to a 16 KiB head.
 */
function viaSluice(k: number, c: ResponseCase): Promise<Outcome> {
  return new Promise((resolve) => {
    let started = 0;
    const req = httpRequest(gw.url(`/case/${k}`), { method: c.method ?? 'GET', agent: false, timeout: 10_000, maxHeaderSize: 65536 }, (res) => {
      started = res.statusCode!;
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('error', () => resolve({ ok: false, what: `cut after ${started}` }));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        const code = /"code":"(SLUICE_ERR_[A-Z_]+)"/.exec(body)?.[1];
        if (res.statusCode! >= 500 && code !== undefined) resolve({ ok: false, what: `${res.statusCode} ${code}` });
        else resolve({ ok: true, status: res.statusCode!, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err) => resolve({ ok: false, what: started > 0 ? `cut after ${started}` : `no answer (${err.message})` }));
    req.end();
  });
}

const show = (o: Outcome) => (o.ok ? `${o.status} ${JSON.stringify(o.body.length > 24 ? `${o.body.slice(0, 24)}…` : o.body)}` : o.what);

test(`${RESPONSE_CORPUS.length} upstream responses: sluice is never less strict than undici`, async () => {
  const rows: string[] = [];
  const problems: string[] = [];
  for (let k = 0; k < RESPONSE_CORPUS.length; k++) {
    const c = RESPONSE_CORPUS[k];
    const u = await viaUndici(k, c);
    const s = await viaSluice(k, c);
    rows.push(`| ${c.name} | ${show(u)} | ${show(s)} |`);
    if (c.name in EXPECTED_DIFFERENCES) continue;
    if (!u.ok && s.ok) problems.push(`${c.name}: undici ${u.what}, sluice relayed ${show(s)}`);
    if (!s.ok && !/^(502 SLUICE_ERR_UPSTREAM_(PROTOCOL|RESET)|cut after \d+)$/.test(s.what)) problems.push(`${c.name}: sluice failed as ${s.what}`);
    if (u.ok && s.ok && (u.status !== s.status || u.body !== s.body)) problems.push(`${c.name}: undici ${show(u)}, sluice ${show(s)}`);
  }
  console.log(['| case | undici | sluice |', '|---|---|---|', ...rows].join('\n'));
  assert.deepEqual(problems, []);
});

test("the corpus covers the issue's classes, and every listed difference names a case", () => {
  assert.ok(RESPONSE_CORPUS.length >= 40);
  const names = new Set(RESPONSE_CORPUS.map((c) => c.name));
  assert.equal(names.size, RESPONSE_CORPUS.length, 'case names are unique');
  for (const name of Object.keys(EXPECTED_DIFFERENCES)) assert.ok(names.has(name), `no case named ${name}`);
});
