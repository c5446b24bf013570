import { randomFillSync } from 'node:crypto';

const BATCH = 256;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const random = Buffer.allocUnsafe(BATCH * 16);
const text = Buffer.allocUnsafe(BATCH * 36) as Buffer & { latin1Slice(start: number, end: number): string };
let next = BATCH;

/**
 * A random (version 4) UUID for a request that came without an X-Request-Id. Ids are formatted 256 at
 * a time into one byte buffer and each is one flat string cut from it: crypto.randomUUID builds each
 * id from 20 concatenated pieces, which costs twice as much and is flattened again when written.
 */
export function requestId(): string {
  if (next === BATCH) refill();
  const at = 36 * next++;
  // Node's own latin1Slice: toString('latin1', ...) without the encoding lookup.
  return text.latin1Slice(at, at + 36);
}

function refill(): void {
  randomFillSync(random);
  for (let i = 0; i < BATCH; i++) {
    const r = 16 * i;
    random[r + 6] = (random[r + 6] & 0x0f) | 0x40; // version 4
    random[r + 8] = (random[r + 8] & 0x3f) | 0x80; // RFC 9562 variant
    let o = 36 * i;
    for (let k = 0; k < 16; k++) {
      if (k === 4 || k === 6 || k === 8 || k === 10) text[o++] = 0x2d;
      const b = random[r + k];
      text[o++] = HEX[b >> 4];
      text[o++] = HEX[b & 15];
    }
  }
  next = 0;
}
