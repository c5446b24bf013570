import { randomFillSync } from 'node:crypto';

/**
 * Random W3C trace ids (32 hex digits) and span ids (16), cut from one block of random bytes that is
 * refilled and hex-encoded 4 KiB at a time: one crypto call per 256 span ids, not one per id.
 * Never all zeros (the spec makes an all-zero id invalid): such an id is drawn again.
 */
const BLOCK = 4096;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const random = Buffer.allocUnsafe(BLOCK);
const text = Buffer.allocUnsafe(BLOCK * 2) as Buffer & { latin1Slice(start: number, end: number): string };
let next = BLOCK;

export function newTraceId(): string {
  return draw(16);
}

export function newSpanId(): string {
  return draw(8);
}

function draw(bytes: number): string {
  for (;;) {
    if (next + bytes > BLOCK) refill();
    const at = next;
    next += bytes;
    if (!allZero(at, bytes)) return text.latin1Slice(2 * at, 2 * (at + bytes));
  }
}

function allZero(at: number, bytes: number): boolean {
  for (let i = at; i < at + bytes; i++) if (random[i] !== 0) return false;
  return true;
}

function refill(): void {
  randomFillSync(random);
  for (let i = 0, o = 0; i < BLOCK; i++) {
    const b = random[i];
    text[o++] = HEX[b >> 4];
    text[o++] = HEX[b & 15];
  }
  next = 0;
}
