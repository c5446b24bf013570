import { HEADER_NAME, headerMap } from '../../config/schema.js';
import { array, type Infer, object, string } from '../../config/schema-node.js';

const edits = (direction: string) =>
  object(
    {
      set: headerMap,
      remove: array(string({ pattern: HEADER_NAME }), { minItems: 1, description: 'Header names to drop (case-insensitive).' }),
    },
    {
      additionalProperties: false,
      description: `Edits of the ${direction}: set replaces every header of that name (or adds it); remove drops them.`,
    },
  );

export const headersSchema = object(
  {
    request: edits('request sent upstream (after sluice adds its own X-Forwarded-* and Via)'),
    response: edits("upstream's response written to the client (not the gateway's own answers)"),
  },
  {
    additionalProperties: false,
    description: 'Set or remove request and response headers on this route. See src/stages/headers/README.md.',
  },
);

export type HeadersConfig = Infer<typeof headersSchema>;
export type HeaderEdits = NonNullable<HeadersConfig['request']>;
