import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { ConfigIssue } from '../errors/gateway-error.js';
import type { ConfigPath, SchemaProblem } from './validate.js';

/** Render a path the way a user writes it: routes[2].match.path */
export function formatPath(path: ConfigPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

/**
 * Find where `path` sits in the YAML source. Walks as deep as the document goes, so a missing field
 * is reported at its parent and an unknown field at its key.
 */
export function locate(doc: Document, lines: LineCounter, problem: SchemaProblem): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < problem.path.length; i++) {
    const key = problem.path[i];
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
      if (pair) {
        const isLast = i === problem.path.length - 1;
        const keyNode = pair.key as Node;
        if (isLast && problem.atKey && keyNode.range) {
          offset = keyNode.range[0];
          break;
        }
        next = pair.value ?? keyNode;
      }
    } else if (isSeq(node) && typeof key === 'number') {
      next = node.items[key];
    }
    const range = (next as Node | undefined)?.range;
    if (!range) break;
    node = next;
    offset = range[0];
  }
  const pos = lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}

export function toIssues(file: string, doc: Document, lines: LineCounter, problems: readonly SchemaProblem[]): ConfigIssue[] {
  return problems.map((p) => ({ file, ...locate(doc, lines, p), path: formatPath(p.path), message: p.message }));
}
