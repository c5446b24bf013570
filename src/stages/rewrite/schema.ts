import type { Infer } from '../../config/schema-node.js';
import { object, string } from '../../config/schema-node.js';

/** A path prefix: RFC 3986 path characters only (it goes into the upstream request line). */
const PATH_PATTERN = "^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$";

export const rewriteSchema = object(
  {
    strip_prefix: string({ pattern: PATH_PATTERN, description: 'Remove this leading path prefix (at a segment boundary) before forwarding.' }),
    add_prefix: string({ pattern: PATH_PATTERN, description: 'Prepend this path prefix before forwarding (after strip_prefix).' }),
  },
  {
    additionalProperties: false,
    description: 'Changes to the path sent upstream (applied after matching).',
  },
);

export type RewriteConfig = Infer<typeof rewriteSchema>;
