import type { ServiceView } from '../../pipeline/stage-factory.js';
import type { AuthPublished } from './service.js';

/** A document the auth service publishes by name (a JWKS by URL, a keys file by path), with its version. */
interface Versioned {
  readonly version: number;
}

/**
 * One document as a worker's stage follows it: `newer()` gives the newest published version once,
 * and null while nothing changed. Called per request, it costs one compare until the primary
 * publishes something new (the published value is replaced, never edited).
 */
export class PublishedDoc<D extends Versioned> {
  private seenPublished: unknown = undefined;
  private seenVersion = -1;

  constructor(
    private readonly view: ServiceView,
    private readonly group: 'jwks' | 'keyFiles',
    private readonly name: string,
  ) {}

  newer(): D | null {
    const published = this.view.current as AuthPublished | undefined;
    if (published === this.seenPublished) return null;
    this.seenPublished = published;
    const doc = published?.[this.group][this.name] as D | undefined;
    if (doc === undefined || doc.version === this.seenVersion) return null;
    this.seenVersion = doc.version;
    return doc;
  }
}
