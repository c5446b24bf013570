/**
 * Decodes a chunked response body (RFC 9112 §7.1) as bytes arrive, strictly: sizes are 1-13 hex
 * digits, extensions and trailers are read past (never relayed), and every CRLF is checked. A body
 * whose framing is off is an error, so the connection is dropped rather than misread.
 */

import { hexDigit } from '../../http/hex.js';
import { fieldByte } from './response-head.js';

const CR = 0x0d,
  LF = 0x0a,
  SP = 0x20,
  HTAB = 0x09,
  SEMICOLON = 0x3b;

const SIZE = 0,
  SIZE_TAIL = 1,
  EXTENSION = 2,
  SIZE_LF = 3,
  DATA = 4,
  DATA_CR = 5,
  DATA_LF = 6,
  TRAILER_START = 7,
  TRAILER_LINE = 8,
  TRAILER_LF = 9,
  END_LF = 10;

export const CHUNKED_DONE = -1;
export const CHUNKED_ERROR = -2;

export class ChunkedDecoder {
  private state = SIZE;
  private digits = 0;
  private size = 0;
  /** Data bytes of the current chunk still to come. */
  remaining = 0;
  /** Why decoding failed, once step() returned CHUNKED_ERROR. */
  error = '';

  reset(): void {
    this.state = SIZE;
    this.digits = 0;
    this.size = 0;
    this.remaining = 0;
  }

  /** Inside a chunk's data: the caller relays buf[at, at + min(remaining, available)) then calls consumed(n). */
  get inData(): boolean {
    return this.state === DATA;
  }

  consumed(n: number): void {
    this.remaining -= n;
    if (this.remaining === 0) this.state = DATA_CR;
  }

  /**
   * Read framing bytes from buf[at, end) up to the next data bytes. Returns the index where data
   * starts (inData is then true), `end` when the bytes ran out, CHUNKED_DONE when the body ended
   * (doneAt holds the index just past it), or CHUNKED_ERROR.
   */
  doneAt = 0;
  step(buf: Buffer, at: number, end: number): number {
    for (; at < end; at++) {
      const c = buf[at];
      switch (this.state) {
        case SIZE: {
          const v = hexDigit(c);
          if (v >= 0) {
            if (++this.digits > 13) return this.fail('chunk size too large');
            this.size = this.size * 16 + v;
            break;
          }
          if (this.digits === 0) return this.fail('invalid chunk size');
          this.state = SIZE_TAIL;
          at--; // look at this byte again as the tail
          break;
        }
        case SIZE_TAIL:
          if (c === CR) this.state = SIZE_LF;
          else if (c === SEMICOLON) this.state = EXTENSION;
          else if (c !== SP && c !== HTAB) return this.fail('invalid chunk size line');
          break;
        case EXTENSION:
          if (c === CR) this.state = SIZE_LF;
          else if (!fieldByte(c)) return this.fail('invalid chunk extension');
          break;
        case SIZE_LF:
          if (c !== LF) return this.fail('bare CR in the chunk size line');
          if (this.size === 0) {
            this.state = TRAILER_START;
            break;
          }
          this.remaining = this.size;
          this.size = 0;
          this.digits = 0;
          this.state = DATA;
          return at + 1;
        case DATA:
          return at;
        case DATA_CR:
          if (c !== CR) return this.fail('chunk data longer than its size');
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== LF) return this.fail('bare CR after chunk data');
          this.state = SIZE;
          break;
        case TRAILER_START:
          if (c === CR) this.state = END_LF;
          else if (!fieldByte(c)) return this.fail('invalid trailer');
          else this.state = TRAILER_LINE;
          break;
        case TRAILER_LINE:
          if (c === CR) this.state = TRAILER_LF;
          else if (!fieldByte(c)) return this.fail('invalid trailer');
          break;
        case TRAILER_LF:
          if (c !== LF) return this.fail('bare CR in a trailer');
          this.state = TRAILER_START;
          break;
        case END_LF:
          if (c !== LF) return this.fail('bare CR at the end of the body');
          this.doneAt = at + 1;
          this.reset();
          return CHUNKED_DONE;
      }
    }
    return end;
  }

  private fail(why: string): number {
    this.error = why;
    return CHUNKED_ERROR;
  }
}
