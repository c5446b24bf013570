/** Answers that never carry a body, whatever their headers say (RFC 9110 §6.4.1): HEAD's, 204 and 304. */
export function isBodyless(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304;
}
