import type { LocalReply, StageFactory } from '../../pipeline/phase.js';

/** `respond:` routes answer from config, with no upstream. The reply is built once, at instantiate. */
export const respondStage: StageFactory<LocalReply> = {
  kind: 'respond',
  compile(route, _config) {
    if (route.respond === undefined) return null;
    const headers = Object.entries(route.respond.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
    return { status: route.respond.status, code: null, headers, body: route.respond.body };
  },
  instantiate(reply) {
    return { name: 'respond', onRequest: () => reply };
  },
};
