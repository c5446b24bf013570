/**
 * Decodes a chunked response body (RFC 9112 §7.1) as bytes arrive, strictly: sizes are 1-13 hex
 * digits, extensions and trailers are read past (never relayed) but checked against their grammar,
 * and every CRLF is checked. A body whose framing is off is an error, so the connection is dropped
 * rather than misread.
 *
 *   chunk-size [ *( ";" token [ "=" ( token / quoted-string ) ] ) ] CRLF
 *
 * No whitespace anywhere on a size line: RFC 9112 allows BWS around an extension's ";" and "=", but
 * llhttp (undici, Node) refuses it, and sluice is never the more lenient of two parsers that may sit
 * on either side of it (test/integration/upstream-response-differential.test.ts).
 */

import { hexDigit } from '../../http/hex.js';
import { TCHAR } from '../../http/token.js';
import { fieldByte } from './response-head.js';

const CR = 0x0d,
  LF = 0x0a,
  SEMICOLON = 0x3b,
  EQUALS = 0x3d,
  DQUOTE = 0x22,
  BACKSLASH = 0x5c,
  COLON = 0x3a;

const SIZE = 0,
  EXT_NAME_START = 1,
  EXT_NAME = 2,
  SIZE_LF = 3,
  DATA = 4,
  DATA_CR = 5,
  DATA_LF = 6,
  TRAILER_START = 7,
  TRAILER_LINE = 8,
  TRAILER_LF = 9,
  END_LF = 10,
  EXT_VALUE_START = 11,
  EXT_TOKEN = 12,
  EXT_QUOTED = 13,
  EXT_QUOTED_PAIR = 14,
  EXT_QUOTED_END = 15,
  TRAILER_NAME = 16;

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
          if (c === CR) this.state = SIZE_LF;
          else if (c === SEMICOLON) this.state = EXT_NAME_START;
          else return this.fail('invalid chunk size line');
          break;
        }
        case EXT_NAME_START:
          if (TCHAR[c] !== 1) return this.fail('invalid chunk extension');
          this.state = EXT_NAME;
          break;
        case EXT_NAME:
          if (c === EQUALS) this.state = EXT_VALUE_START;
          else if (TCHAR[c] !== 1 && this.extensionEnd(c)) return this.fail('invalid chunk extension');
          break;
        case EXT_VALUE_START:
          if (c === DQUOTE) this.state = EXT_QUOTED;
          else if (TCHAR[c] === 1) this.state = EXT_TOKEN;
          else return this.fail('invalid chunk extension');
          break;
        case EXT_TOKEN:
          if (TCHAR[c] !== 1 && this.extensionEnd(c)) return this.fail('invalid chunk extension');
          break;
        case EXT_QUOTED:
          // qdtext: HTAB, SP, VCHAR but DQUOTE and backslash, obs-text.
          if (c === DQUOTE) this.state = EXT_QUOTED_END;
          else if (c === BACKSLASH) this.state = EXT_QUOTED_PAIR;
          else if (!fieldByte(c)) return this.fail('invalid chunk extension');
          break;
        case EXT_QUOTED_PAIR:
          if (!fieldByte(c)) return this.fail('invalid chunk extension');
          this.state = EXT_QUOTED;
          break;
        case EXT_QUOTED_END:
          if (this.extensionEnd(c)) return this.fail('invalid chunk extension');
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
          // A trailer field is a field line: token ":" value (no obs-fold, no space before the colon).
          if (c === CR) this.state = END_LF;
          else if (TCHAR[c] !== 1) return this.fail('invalid trailer');
          else this.state = TRAILER_NAME;
          break;
        case TRAILER_NAME:
          if (c === COLON) this.state = TRAILER_LINE;
          else if (TCHAR[c] !== 1) return this.fail('invalid trailer');
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

  /**
   * After an extension's name, token value or quoted value: ";" starts another, CR ends the line.
   * Returns true when `c` is neither (an error).
   */
  private extensionEnd(c: number): boolean {
    if (c === SEMICOLON) this.state = EXT_NAME_START;
    else if (c === CR) this.state = SIZE_LF;
    else return true;
    return false;
  }

  private fail(why: string): number {
    this.error = why;
    return CHUNKED_ERROR;
  }
}
