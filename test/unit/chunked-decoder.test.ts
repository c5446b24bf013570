import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNKED_DONE, CHUNKED_ERROR, ChunkedDecoder } from '../../src/upstream/http1/chunked-decoder.js';

// The decoder is driven here exactly as connection.ts drives it: step() over the framing bytes; when
// it stops inside a chunk's data, the caller takes min(remaining, available) bytes and calls consumed(n).

interface Decoded {
  /** The body's data, as it would be relayed. */
  data: string;
  /** Whether the final chunk and its trailer section ended. */
  done: boolean;
  /** Bytes left after the body's end, for the next answer on the connection. */
  rest: string;
  /** Why decoding failed, or null. */
  error: string | null;
}

/** Feed `pieces` (latin1 text) one read at a time, as the socket would deliver them. */
function decode(pieces: string[], d = new ChunkedDecoder()): Decoded {
  const data: Buffer[] = [];
  for (let p = 0; p < pieces.length; p++) {
    const buf = Buffer.from(pieces[p], 'latin1');
    let at = 0;
    while (at < buf.length) {
      if (!d.inData) {
        const r = d.step(buf, at, buf.length);
        if (r === CHUNKED_ERROR) return { data: Buffer.concat(data).toString('latin1'), done: false, rest: '', error: d.error };
        if (r === CHUNKED_DONE) {
          const rest = buf.toString('latin1', d.doneAt) + pieces.slice(p + 1).join('');
          return { data: Buffer.concat(data).toString('latin1'), done: true, rest, error: null };
        }
        assert.ok(r >= at && r <= buf.length, `step() returned ${r}, outside [${at}, ${buf.length}]`);
        at = r;
        if (!d.inData) continue;
      }
      const n = Math.min(d.remaining, buf.length - at);
      if (n === 0) continue;
      d.consumed(n);
      data.push(buf.subarray(at, at + n));
      at += n;
    }
  }
  return { data: Buffer.concat(data).toString('latin1'), done: false, rest: '', error: null };
}

const whole = (body: string) => decode([body]);
const byteByByte = (body: string) => decode([...body]);

/** A body exercising sizes in both cases, an extension, an empty-looking chunk of CRLFs, and trailers. */
const BODY =
  '5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n1a;x;y="q"\r\nabcdefghijklmnopqrstuvwxyz\r\n4\r\n\r\n\r\n\r\n0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n';
const BODY_DATA = 'hello 0123456789abcdefghijklmnopqrstuvwxyz\r\n\r\n';

/** Assert a body is refused, whole, byte by byte and split at every index. */
function assertRefused(body: string, why?: RegExp) {
  const r = whole(body);
  assert.notEqual(r.error, null, `expected ${JSON.stringify(body)} to be refused`);
  assert.equal(r.done, false);
  if (why) assert.match(r.error!, why);
  assert.notEqual(byteByByte(body).error, null, `byte by byte: expected ${JSON.stringify(body)} to be refused`);
  for (let i = 0; i <= body.length; i++) {
    assert.notEqual(decode([body.slice(0, i), body.slice(i)]).error, null, `split at ${i}: expected ${JSON.stringify(body)} to be refused`);
  }
}

// ── decoding ──────────────────────────────────────────────────────────────────────────────

test('a body fed whole decodes to its data, and the decoder says where it ended', () => {
  const r = whole(BODY);
  assert.equal(r.error, null);
  assert.equal(r.done, true);
  assert.equal(r.data, BODY_DATA);
  assert.equal(r.rest, '');
});

test('a body fed one byte at a time decodes to the same data', () => {
  const r = byteByByte(BODY);
  assert.deepEqual(r, { data: BODY_DATA, done: true, rest: '', error: null });
});

test('a body split at every index (two reads) decodes to the same data', () => {
  for (let i = 0; i <= BODY.length; i++) {
    const r = decode([BODY.slice(0, i), BODY.slice(i)]);
    assert.deepEqual(r, { data: BODY_DATA, done: true, rest: '', error: null }, `split at ${i}`);
  }
});

test('a body split at every pair of indexes (three reads) decodes to the same data', () => {
  const body = '3;e=1\r\nabc\r\n10\r\n0123456789ABCDEF\r\n0\r\nT: v\r\n\r\n';
  for (let i = 0; i <= body.length; i++) {
    for (let j = i; j <= body.length; j++) {
      const r = decode([body.slice(0, i), body.slice(i, j), body.slice(j)]);
      assert.deepEqual(r, { data: 'abc0123456789ABCDEF', done: true, rest: '', error: null }, `split at ${i} and ${j}`);
    }
  }
});

test('doneAt points just past the final CRLF: the bytes after the body are left for the next answer', () => {
  const next = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  for (const body of ['0\r\n\r\n', '3\r\nabc\r\n0\r\n\r\n', '3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n', BODY]) {
    const fed = body + next;
    const r = whole(fed);
    assert.equal(r.done, true);
    assert.equal(r.rest, next, JSON.stringify(body));
    const buf = Buffer.from(fed, 'latin1');
    // And in every split, the remainder is exactly what followed the body.
    for (let i = 0; i <= fed.length; i++) {
      const s = decode([fed.slice(0, i), fed.slice(i)]);
      assert.equal(s.done, true, `split at ${i}`);
      assert.equal(s.rest, next, `split at ${i}`);
    }
    // step() itself: doneAt indexes into the buffer it was given.
    const d = new ChunkedDecoder();
    let at = 0;
    for (;;) {
      const r2 = d.step(buf, at, buf.length);
      if (r2 === CHUNKED_DONE) break;
      assert.ok(r2 >= 0, d.error);
      at = r2 + d.remaining;
      d.consumed(d.remaining);
    }
    assert.equal(d.doneAt, body.length);
  }
});

test('an empty body (just the last chunk) has no data', () => {
  assert.deepEqual(whole('0\r\n\r\n'), { data: '', done: true, rest: '', error: null });
  assert.deepEqual(whole('000\r\n\r\n'), { data: '', done: true, rest: '', error: null });
});

test('chunk extensions are accepted and never part of the data', () => {
  assert.equal(whole('5;a=b\r\nhello\r\n0\r\n\r\n').data, 'hello');
  assert.equal(whole('5;a\r\nhello\r\n0;last=yes\r\n\r\n').data, 'hello');
  assert.equal(whole('5;a="quoted; value"\r\nhello\r\n0\r\n\r\n').data, 'hello');
  assert.equal(whole('5;a="q\\"uote\\\\"\r\nhello\r\n0\r\n\r\n').data, 'hello', 'quoted-pairs');
  assert.equal(whole('5;a=1;b;c="x"\r\nhello\r\n0\r\n\r\n').data, 'hello', 'several');
});

// Issue 21, corpus case "chunk size with trailing space": llhttp refuses any whitespace on a size line
// (RFC 9112 allows BWS around ";" and "="), and extensions that are not token [= token / quoted-string].
test('whitespace on a size line, or an extension off its grammar, is refused', () => {
  for (const line of ['5 ', '5\t', '5 ;a=b', '5; a=b', '5;a =b', '5;a= b', '5;a=b ', '5;', '5;;a', '5;=b', '5;a=', '5;a="x', '5;a="x"y', '5;a=b=c', '5;a(b)'])
    assertRefused(`${line}\r\nhello\r\n0\r\n\r\n`);
  assertRefused('5\r\nhello\r\n0 \r\n\r\n');
});

test('trailers are read past and never part of the data', () => {
  const r = whole('2\r\nhi\r\n0\r\nX-Checksum: abc\r\nX-Second: 2\r\n\r\n');
  assert.equal(r.data, 'hi');
  assert.equal(r.done, true);
  assert.equal(r.rest, '');
});

test('sizes are hex, either case, up to 13 digits', () => {
  const data = 'x'.repeat(0x1f);
  assert.equal(whole(`1f\r\n${data}\r\n0\r\n\r\n`).data, data);
  assert.equal(whole(`1F\r\n${data}\r\n0\r\n\r\n`).data, data);
  assert.equal(whole(`000000000001F\r\n${data}\r\n0\r\n\r\n`).data, data, '13 digits, leading zeros');
  // 13 digits is a legal size: the decoder accepts the line and waits for data.
  const d = new ChunkedDecoder();
  const line = Buffer.from('fffffffffffff\r\n', 'latin1');
  assert.equal(d.step(line, 0, line.length), line.length);
  assert.equal(d.inData, true);
  assert.equal(d.remaining, 0xfffffffffffff);
});

test('the decoder is reusable after reset() (the next chunked answer on a connection)', () => {
  const d = new ChunkedDecoder();
  assert.equal(decode(['3\r\nabc\r\n0\r\n\r\n'], d).data, 'abc');
  assert.equal(decode(['4\r\nwxyz\r\n0\r\n\r\n'], d).data, 'wxyz');
  const half = decode(['4\r\nwx'], d);
  assert.equal(half.done, false);
  d.reset();
  assert.equal(decode(['2\r\nok\r\n0\r\n\r\n'], d).data, 'ok');
});

test('a body that stops early is not done (no data invented)', () => {
  for (const cut of ['5\r\nhel', '5\r\nhello', '5\r\nhello\r\n', '5\r\nhello\r\n0\r\n', '5\r\nhello\r\n0\r\nT: v\r\n']) {
    const r = whole(cut);
    assert.equal(r.done, false, JSON.stringify(cut));
    assert.equal(r.error, null, JSON.stringify(cut));
  }
});

// ── refused ───────────────────────────────────────────────────────────────────────────────

test('a size line without hex digits is refused', () => {
  assertRefused('\r\nhello\r\n0\r\n\r\n');
  assertRefused(';ext\r\nhello\r\n0\r\n\r\n');
  assertRefused('zz\r\nhello\r\n0\r\n\r\n');
  assertRefused('-5\r\nhello\r\n0\r\n\r\n');
  assertRefused('+5\r\nhello\r\n0\r\n\r\n');
  assertRefused(' 5\r\nhello\r\n0\r\n\r\n');
  assertRefused('0x5\r\nhello\r\n0\r\n\r\n');
  assertRefused('5g\r\nhello\r\n0\r\n\r\n');
  assertRefused('5 5\r\nhello\r\n0\r\n\r\n');
  assertRefused('5\r\nhello\r\nxyz\r\n\r\n', /invalid chunk size/);
});

test('a size of 14 or more hex digits is refused', () => {
  assertRefused('00000000000005\r\nhello\r\n0\r\n\r\n', /too large/);
  assertRefused('ffffffffffffff\r\n');
  assertRefused('1' + '0'.repeat(20) + '\r\n');
});

test('data longer than its size (no CRLF right after the data) is refused', () => {
  assertRefused('3\r\nhello\r\n0\r\n\r\n', /longer than its size/);
  assertRefused('3\r\nabc0\r\n\r\n');
  assertRefused('3\r\nabc\nX\r\n0\r\n\r\n');
  assertRefused('3\r\nabc\rX0\r\n\r\n');
});

test('a bare LF or bare CR in the size line is refused', () => {
  assertRefused('5\nhello\r\n0\r\n\r\n');
  assertRefused('5\rhello\r\n0\r\n\r\n');
  assertRefused('5;ext\nhello\r\n0\r\n\r\n');
  assertRefused('5;ext\rhello\r\n0\r\n\r\n');
  assertRefused('5\r\nhello\r\n0\n\r\n');
  assertRefused('5\r\nhello\r\n0\r\r\n');
});

test('a control byte in a chunk extension is refused', () => {
  for (const c of ['\x00', '\x01', '\x0b', '\x1f', '\x7f']) assertRefused(`5;a=${c}\r\nhello\r\n0\r\n\r\n`);
  assertRefused('0;a=\x01\r\n\r\n');
});

test('a bare CR or LF, or a control byte, in the trailer section is refused', () => {
  assertRefused('0\r\nX-T: a\rb\r\n\r\n');
  assertRefused('0\r\nX-T: a\x01b\r\n\r\n');
  assertRefused('0\r\nX-T: a\nX: b\r\n\r\n');
  assertRefused('0\r\n\x01\r\n\r\n');
  assertRefused('0\r\n\r\r\n');
  assertRefused('0\r\n\n');
});

test('a trailer that is not a field line (token ":" value) is refused', () => {
  assertRefused('0\r\nNoColon\r\n\r\n');
  assertRefused('0\r\nX-T : v\r\n\r\n');
  assertRefused('0\r\n: v\r\n\r\n');
  assertRefused('0\r\nX-T: a\r\n b\r\n\r\n', undefined);
  assertRefused('0\r\nX(T): v\r\n\r\n');
  assert.equal(whole('0\r\nX-T:\r\nY: \tv \r\n\r\n').done, true, 'empty values and OWS are fine');
});
