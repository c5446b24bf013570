import type { LocalReply, Stage } from '../../pipeline/phase.js';

/** Every request of the route gets the same answer, made at compile time. */
export function respondStage(reply: LocalReply): Stage {
  return { name: 'respond', onRequest: () => reply };
}
