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

/** A value that cannot end its line or the head when written as given. */
export function isSafeValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}
