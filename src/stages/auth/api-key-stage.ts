import { dropFields } from '../../http/fields.js';
import type { LocalReply, Stage, UpstreamRequestHead } from '../../pipeline/phase.js';
import type { Principal, RequestCtx } from '../../pipeline/request-ctx.js';
import type { StageEnv } from '../../pipeline/stage-factory.js';
import { AMBIGUOUS, hasParam, maskedParam, matchKey, presentedKey, withoutParam } from './api-key.js';
import type { ApiKeyPlan, AuthPlan, JwksSettings } from './compile.js';
import type { StoredKey } from './keys-file.js';
import type { KeyFilesPublished } from './keys-file-service.js';
import { PublishedDoc } from './published-doc.js';
import { REFUSED } from './refusal.js';
import { Refuser } from './refuser.js';

const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * `auth: { api_key }` in a worker: the presented key hashed and matched, its id the principal and
 * forwarded; the key itself never goes upstream (nor into the access log).
 */
export class ApiKeyStage implements Stage {
  readonly name = 'auth';
  private hashes: Buffer[] = [];
  private principals: Principal[] = [];
  private readonly refuser: Refuser;
  /** The route's keys file, or null when it has none. */
  private readonly file: PublishedDoc<KeyFilesPublished[string]> | null;

  constructor(
    plan: AuthPlan,
    private readonly key: ApiKeyPlan,
    env: StageEnv<JwksSettings>,
  ) {
    this.refuser = new Refuser(plan, env);
    this.file = key.keysFile === null ? null : new PublishedDoc(env.service, 'keyFiles', key.keysFile);
    this.useKeys(key.keys);
  }

  onRequest(ctx: RequestCtx): LocalReply | null {
    if (this.file !== null) this.takeKeysFile(this.file);
    const presented = presentedKey(ctx, this.key);
    if (presented === null) return this.refuser.refuse(ctx, REFUSED.missing);
    const i = presented === AMBIGUOUS ? -1 : matchKey(presented, this.hashes);
    if (i === -1) return this.refuser.refuse(ctx, REFUSED.apiKey);
    ctx.principal = this.principals[i];
    return null;
  }

  /** The watched keys file changed (the primary published it): its keys join the config's. */
  private takeKeysFile(file: PublishedDoc<KeyFilesPublished[string]>): void {
    const doc = file.newer();
    if (doc === null) return;
    this.useKeys([...this.key.keys, ...doc.keys]);
  }

  private useKeys(keys: readonly StoredKey[]): void {
    this.hashes = keys.map((k) => Buffer.from(k.sha256, 'hex'));
    this.principals = keys.map((k): Principal => ({ via: 'api_key', subject: k.id, keyId: k.id, claims: NO_CLAIMS }));
  }

  /**
   * The access log must not carry the key, whatever the parameter is called, refused or not, and
   * also when an earlier stage answered before this one ran (an ip: 403, a CORS preflight, which
   * browsers send with the query): onLog runs for every request of the route.
   */
  onLog(ctx: RequestCtx): void {
    const name = this.key.query;
    if (name !== null && hasParam(ctx.query, name)) ctx.logQuery = maskedParam(ctx.query, name);
  }

  onUpstreamRequest(ctx: RequestCtx, head: UpstreamRequestHead): void {
    const k = this.key;
    if (k.header !== null) dropFields(head.headers, k.header);
    else head.query = withoutParam(head.query, k.query!);
    dropFields(head.headers, k.forwardId);
    if (ctx.principal !== null) head.headers.push(k.forwardId, ctx.principal.keyId!);
  }
}
