import { fixedResponse } from '../../config/schema.js';
import type { Infer } from '../../config/schema-node.js';

export const respondSchema = fixedResponse('Answer directly without an upstream.');

export type RespondConfig = Infer<typeof respondSchema>;
