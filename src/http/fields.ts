/**
 * Header fields as sluice keeps the ones it builds or edits: flat [lower-case name, value, name,
 * value, ...] lists (the upstream request head, stage headers on a response head).
 */

/** Drop every field of this name from the list. */
export function dropFields(list: string[], lowerName: string): void {
  for (let i = list.length - 2; i >= 0; i -= 2) if (list[i] === lowerName) list.splice(i, 2);
}

/** What config-given values are refused for: uWS and the upstream client write values as they are. */
export const UNSAFE_VALUE = 'header values may not contain CR, LF or NUL';

/**
 * RFC 9110 §5.5 field-value: no control character but HTAB (0x00-0x08, 0x0A-0x1F, 0x7F refused).
 * Stricter than isSafeValue, for values sluice takes from a request (a token's claims).
 */
export function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** A value that cannot end its line or the head when written as given. */
export function isSafeValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}
