import { HEADER_NAME } from '../../config/schema.js';
import { anyOf, array, boolean, type Infer, integer, object, string } from '../../config/schema-node.js';

const names = (description: string) => array(string({ pattern: HEADER_NAME }), { description });

export const corsSchema = object(
  {
    origins: anyOf([string({ const: '*' }), array(string({ maxLength: 512 }), { minItems: 1 })], {
      description: 'Origins allowed to read responses: a list of exact origins (https://app.example.com, port included when not the default), or "*" for any.',
    }),
    methods: array(string({ pattern: HEADER_NAME }), {
      default: ['GET', 'HEAD', 'POST'],
      description: 'Methods a preflight may ask for (case-sensitive, as HTTP says).',
    }),
    headers: names('Request headers a preflight may ask for (case-insensitive), e.g. [content-type, authorization]. Default: none.'),
    expose_headers: names('Response headers the browser lets scripts read beyond the safelisted ones (Access-Control-Expose-Headers).'),
    credentials: boolean({
      default: false,
      description: 'Let browsers send cookies and credentials (Access-Control-Allow-Credentials: true); not with origins: "*".',
    }),
    max_age: integer({
      minimum: 0,
      maximum: 86_400,
      default: 600,
      description: 'How long browsers may cache a preflight answer, in seconds (Access-Control-Max-Age).',
    }),
  },
  {
    additionalProperties: false,
    required: ['origins'],
    description: 'Cross-origin resource sharing: preflights answered by the gateway, allow headers on responses. See docs/network-policy.md.',
  },
);

export type CorsConfig = Infer<typeof corsSchema>;
