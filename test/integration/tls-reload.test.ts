import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CertDir, type CertFiles, certDir } from '../helpers/certs.js';
import { runCli, startGateway } from '../helpers/gateway.js';
import { skipWithout } from '../helpers/system-services.js';
import { tlsRequest } from '../helpers/tls-client.js';
import { waitFor } from '../helpers/wait.js';

const skip = skipWithout('openssl');

// What a config reload may change on a running TLS listener, and what it must refuse (docs/tls.md).
let certs: CertDir;
let ca: CertFiles;
let caPem: Buffer;
let main: CertFiles;
let exact: CertFiles;
let wild: CertFiles;

before(() => {
  if (skip) return;
  certs = certDir();
  ca = certs.ca('ca');
  caPem = readFileSync(ca.cert);
  main = certs.cert('main', { ca, names: ['localhost'] });
  exact = certs.cert('exact', { ca, names: ['a.example.com', 'b.example.com'] });
  wild = certs.cert('wild', { ca, names: ['*.example.com'] });
});

after(() => certs?.remove());

/** The CN a new handshake gets; a handshake caught in a listen-socket swap is reset and tried again (docs/tls.md). */
async function cnFor(port: number, servername?: string): Promise<string> {
  for (let tries = 0; ; tries++) {
    try {
      return (await tlsRequest(port, { ca: caPem, servername })).peerCn;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET' || tries === 3) throw err;
    }
  }
}

const routes = `routes:
  - { name: hi, match: { prefix: / }, respond: { status: 200, body: hi } }
`;

test('a server name twice in one listener (case aside) is refused with file:line:col, at start and on reload', { skip }, async () => {
  const file = join(certs.dir, 'twice.yaml');
  writeFileSync(
    file,
    `listen:
  host: 127.0.0.1
  port: 0
  tls:
    cert: ${main.cert}
    key: ${main.key}
    sni:
      - { hosts: [a.example.com], cert: ${exact.cert}, key: ${exact.key} }
      - { hosts: [A.Example.com, "*.example.com"], cert: ${wild.cert}, key: ${wild.key} }
${routes}`,
  );
  const r = await runCli(['validate', '--config', file]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, new RegExp(`${file}:9:19 listen\\.tls\\.sni\\[1\\]\\.hosts\\[0\\]: a\\.example\\.com is already named by sni\\[0\\]`));

  // uWS aborts the process on a repeated name: a reload bringing one in must leave the gateway serving.
  const one = `{ hosts: [a.example.com], cert: ${exact.cert}, key: ${exact.key} }`;
  const g = await startGateway(`listen: { host: 127.0.0.1, port: 0, tls: { cert: ${main.cert}, key: ${main.key}, sni: [ ${one} ] } }\n${routes}`);
  try {
    assert.equal(await cnFor(g.port, 'a.example.com'), 'a.example.com');
    const text = readFileSync(g.configFile, 'utf8');
    writeFileSync(g.configFile, text.replace(one, `${one}, { hosts: [a.example.com, "*.example.com"], cert: ${wild.cert}, key: ${wild.key} }`));
    const rejected = await g.waitForLog((l) => l.msg === 'config rejected; the running config stays in force');
    assert.match(rejected.issues.join('\n'), /listen\.tls\.sni\[1\]\.hosts\[0\]: a\.example\.com is already named by sni\[0\]/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await cnFor(g.port, 'a.example.com'), 'a.example.com');
    assert.equal(await cnFor(g.port, 'b.example.com'), 'localhost', 'the rejected entry is not in force');
  } finally {
    assert.equal(await g.stop(), 0);
  }
});

test('a reload that changes only min_version, or only the SNI names, rebuilds the listener', { skip }, async () => {
  const g = await startGateway(`listen:
  host: 127.0.0.1
  port: 0
  tls:
    cert: ${main.cert}
    key: ${main.key}
    min_version: TLSv1.2
    sni: [ { hosts: [a.example.com], cert: ${exact.cert}, key: ${exact.key} } ]
${routes}`);
  const reloaded = async (edit: (t: string) => string, generation: number) => {
    writeFileSync(g.configFile, edit(readFileSync(g.configFile, 'utf8')));
    await g.waitForLog((l) => l.msg === 'config reloaded' && l.generation === generation);
  };
  try {
    assert.equal((await tlsRequest(g.port, { ca: caPem, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
    await reloaded((t) => t.replace('min_version: TLSv1.2', 'min_version: TLSv1.3'), 2);
    await waitFor(
      () =>
        tlsRequest(g.port, { ca: caPem, maxVersion: 'TLSv1.2' }).then(
          () => false,
          (err) => /handshake failure|ERR_SSL/i.test(String(err)),
        ),
      'TLS 1.2 refused after min_version: TLSv1.3',
      3000,
    );
    assert.equal((await tlsRequest(g.port, { ca: caPem })).protocol, 'TLSv1.3');

    assert.equal(await cnFor(g.port, 'b.example.com'), 'localhost');
    await reloaded((t) => t.replace('hosts: [a.example.com]', 'hosts: [b.example.com]'), 3);
    await waitFor(async () => (await cnFor(g.port, 'b.example.com')) === 'a.example.com', 'the renamed SNI entry', 3000);
    assert.equal(await cnFor(g.port, 'a.example.com'), 'localhost', 'the old name is gone');
  } finally {
    assert.equal(await g.stop(), 0);
  }
});

test('an expired certificate in force is served with a warning; only a change bringing one in is refused', { skip }, async () => {
  const expired = certs.cert('old', { ca, cn: 'old', names: ['localhost'], startDays: 10, days: 2 });
  const soon = certs.cert('soon', { ca, cn: 'soon', names: ['a.example.com'], startDays: 1, days: 5 });
  const notYet = certs.cert('future', { ca, cn: 'future', names: ['localhost'], startDays: -2 });
  const config = `listen:
  - { host: 127.0.0.1, port: 0 }
  - host: 127.0.0.1
    port: 0
    tls:
      cert: ${expired.cert}
      key: ${expired.key}
      sni: [ { hosts: [a.example.com], cert: ${soon.cert}, key: ${soon.key} } ]
routes:
  - { name: hi, match: { prefix: / }, respond: { status: 200, body: one } }
`;
  const file = join(certs.dir, 'expired.yaml');
  writeFileSync(file, config);
  const v = await runCli(['validate', '--config', file]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, new RegExp(`warning: ${file}:6:13 listen\\[1\\]\\.tls\\.cert: SLUICE_ERR_TLS_PAIR: .*expired on .*served anyway`));
  assert.match(v.stderr, /listen\[1\]\.tls\.sni\[0\]\.cert: SLUICE_ERR_TLS_PAIR: .*expires on/);

  const g = await startGateway(config);
  try {
    const warned = await g.waitForLog((l) => l.msg === 'certificate in force is expired, not yet valid or expiring soon');
    assert.equal(warned.level, 'warn');
    assert.match(warned.issues.join('\n'), /tls\.cert: .*expired on/);
    const tlsPort = g.ports[1];
    assert.equal((await tlsRequest(tlsPort, { ca: caPem, rejectUnauthorized: false })).peerCn, 'old');
    // An unrelated reload is accepted: the expired pair is the one in force.
    writeFileSync(g.configFile, readFileSync(g.configFile, 'utf8').replace('body: one', 'body: two'));
    await g.waitForLog((l) => l.msg === 'config reloaded' && l.generation === 2);
    await waitFor(async () => (await tlsRequest(tlsPort, { ca: caPem, rejectUnauthorized: false })).body === 'two', 'the reloaded route', 3000);
    // A change that brings in a certificate outside its dates is refused.
    writeFileSync(
      g.configFile,
      readFileSync(g.configFile, 'utf8').replace(`cert: ${expired.cert}`, `cert: ${notYet.cert}`).replace(`key: ${expired.key}`, `key: ${notYet.key}`),
    );
    const rejected = await g.waitForLog((l) => l.msg === 'config rejected; the running config stays in force');
    assert.match(rejected.issues.join('\n'), /tls\.cert: SLUICE_ERR_TLS_PAIR: .*not valid before/);
    assert.equal((await tlsRequest(tlsPort, { ca: caPem, rejectUnauthorized: false })).peerCn, 'old');
  } finally {
    assert.equal(await g.stop(), 0);
  }
});

test("key copies: only checked files are copied, retired ones are deleted, a dead process's folder is cleared", { skip }, async () => {
  // A folder left by a process that is gone (an abort skips the exit hook), and one of a live process.
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
  const stale = join(tmpdir(), `sluice-tls-${deadPid}-test`);
  const live = join(tmpdir(), `sluice-tls-${process.pid}-test`);
  for (const dir of [stale, live]) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'old-key.pem'), 'x');
  }
  const files: CertFiles = { cert: join(certs.dir, 'copied.pem'), key: join(certs.dir, 'copied-key.pem') };
  const rotate = (c: CertFiles) => {
    copyFileSync(c.key, files.key);
    copyFileSync(c.cert, files.cert);
  };
  const pairs = ['one', 'two', 'three'].map((cn) => certs.cert(`copy-${cn}`, { ca, cn, names: ['localhost'] }));
  rotate(pairs[0]);
  const g = await startGateway(`listen: { host: 127.0.0.1, port: 0, tls: { cert: ${files.cert}, key: ${files.key} } }\n${routes}`);
  try {
    assert.equal(existsSync(stale), false, "the dead process's folder is removed at start");
    assert.equal(existsSync(live), true, "a live process's folder is left alone");
    const mine = readdirSync(tmpdir()).filter((n) => n.startsWith(`sluice-tls-${g.proc.pid}-`));
    assert.equal(mine.length, 1);
    const copies = () => readdirSync(join(tmpdir(), mine[0])).sort();
    assert.equal(copies().length, 2, 'the certificate and its key');

    copyFileSync(pairs[1].key, files.key); // a key that is not the certificate's: refused, not copied
    await g.waitForLog((l) => l.msg === 'config rejected; the running config stays in force');
    assert.equal(copies().length, 2, 'a refused file is not copied');

    let generation = 1;
    for (const pair of pairs.slice(1)) {
      rotate(pair);
      generation++;
      await g.waitForLog((l) => l.msg === 'config reloaded' && l.generation === generation);
    }
    await waitFor(async () => (await cnFor(g.port)) === 'three', 'the third pair', 3000);
    assert.equal(copies().length, 4, 'the pair in force and the one before it; the first is deleted');
  } finally {
    assert.equal(await g.stop(), 0);
    rmSync(live, { recursive: true, force: true });
  }
});
