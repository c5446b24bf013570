import type { SegmentPlan } from './match-plan.js';

/**
 * Parse a `path:` pattern into segments. Returns an error message instead of throwing so the
 * compiler can attach the config location.
 *   /users/:id     → static "users", param "id"
 *   /files/*       → static "files", wildcard (the rest, possibly empty)
 */
export function parsePathPattern(pattern: string): SegmentPlan[] | string {
  if (!pattern.startsWith('/')) return 'must start with "/"';
  const parts = pattern.slice(1).split('/');
  const segments: SegmentPlan[] = [];
  const names = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (part === '*') {
      if (!last) return '"*" may only be the last segment';
      segments.push({ kind: 'wildcard' });
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `bad parameter name ${JSON.stringify(part)}`;
      if (names.has(name)) return `parameter ":${name}" appears twice`;
      names.add(name);
      segments.push({ kind: 'param', name });
    } else if (part.includes('*') || part.includes(':')) {
      return `segment ${JSON.stringify(part)}: ":" and "*" must be a whole segment`;
    } else if (part === '' && !last) {
      return 'empty segment ("//")';
    } else if (part === '.' || part === '..') {
      return 'dot segments can never match a normalised path';
    } else {
      segments.push({ kind: 'static', value: part });
    }
  }
  return segments;
}
