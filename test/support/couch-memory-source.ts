/**
 * A CouchDB database held in memory, as the source of an emulated push: the
 * replicator reads it through the same operations it uses over HTTP, and
 * gets documents shaped as CouchDB's own reads give them (full `_revisions`
 * paths, attachments held gzip-compressed with CouchDB's digest of the
 * stored bytes, `revpos`), so what reaches Settee does not depend on Settee
 * having produced it.
 *
 * Only what a replication source needs: leaves with their paths (no interior
 * bodies), one sequence per update, `_local` documents, and CouchDB's winner
 * rule (live before deleted, then the longest path, then the greater id).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { BulkGetAnswer, BulkGetItem, ChangesOptions, SourceEndpoint, WriteOptions } from './couch-replicator-api.js';
import { bulkGetKey, DocWriteError } from './couch-replicator-api.js';
import type { CouchAtt, CouchDoc } from './couch-doc-json.js';
import { parseRev, revString } from './couch-doc-json.js';
import type { OpenRevsItem } from './couch-multipart-reader.js';

/** CouchDB's `compressible_types` default. */
const compressibleTypes = [/^text\//, /^application\/javascript$/, /^application\/json$/, /^application\/xml$/];

/** An attachment as CouchDB stores a new upload: gzip (level 8) for compressible types, digest of the stored bytes. */
export function storedAttachment(name: string, type: string, revpos: number, bytes: Buffer): CouchAtt {
  const compress = compressibleTypes.some((pattern) => pattern.test(type));
  const data = compress ? gzipSync(bytes, { level: 8 }) : bytes;
  const digest = `md5-${createHash('md5').update(data).digest('base64')}`;
  return { name, type, revpos, digest, length: bytes.length, encodedLength: data.length, encoding: compress ? 'gzip' : 'identity', data };
}

interface StoredDoc {
  seq: number;
  leaves: CouchDoc[];
}

function revOf(doc: CouchDoc): string {
  return revString(doc.revs.start, doc.revs.ids[0] ?? '');
}

/** CouchDB's winner order: live first, then higher position, then greater id. */
function compareLeaves(a: CouchDoc, b: CouchDoc): number {
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  if (a.revs.start !== b.revs.start) return b.revs.start - a.revs.start;
  const [idA = '', idB = ''] = [a.revs.ids[0], b.revs.ids[0]];
  return idA < idB ? 1 : idA > idB ? -1 : 0;
}

export class MemoryCouchSource implements SourceEndpoint {
  readonly name = 'memory-source';
  #updateSeq = 0;
  readonly #docs = new Map<string, StoredDoc>();
  readonly #locals = new Map<string, { rev: number; body: Record<string, unknown> }>();

  /** Stores one revision: a leaf replacing the leaf it extends (if any), as a replicated write does. */
  put(doc: CouchDoc): void {
    this.#updateSeq += 1;
    const stored = this.#docs.get(doc.id) ?? { seq: 0, leaves: [] };
    const parent = doc.revs.ids[1] === undefined ? undefined : revString(doc.revs.start - 1, doc.revs.ids[1]);
    stored.leaves = stored.leaves.filter((leaf) => revOf(leaf) !== parent && revOf(leaf) !== revOf(doc));
    stored.leaves.push(doc);
    stored.leaves.sort(compareLeaves);
    stored.seq = this.#updateSeq;
    this.#docs.set(doc.id, stored);
  }

  /** Leaves, winner first. */
  leaves(id: string): readonly CouchDoc[] {
    return this.#docs.get(id)?.leaves ?? [];
  }

  ids(): string[] {
    return [...this.#docs.keys()].sort();
  }

  async open(): Promise<void> {}

  async info(): Promise<Record<string, unknown>> {
    return { db_name: 'memory', update_seq: this.#updateSeq, instance_start_time: '0' };
  }

  async openDoc(id: string): Promise<CouchDoc | { readonly error: unknown }> {
    const local = this.#locals.get(id);
    if (local === undefined) return { error: 'not_found' };
    return { id, revs: { start: 0, ids: [String(local.rev)] }, deleted: false, body: local.body, atts: [] };
  }

  async updateDoc(doc: CouchDoc, _options: WriteOptions): Promise<string> {
    if (!doc.id.startsWith('_local/')) throw new Error('the memory source takes only checkpoints');
    const current = this.#locals.get(doc.id)?.rev ?? 0;
    const given = doc.revs.ids[0] === undefined ? 0 : Number(doc.revs.ids[0]);
    if (given !== current) throw new DocWriteError('conflict', 'Document update conflict.', 409);
    this.#locals.set(doc.id, { rev: current + 1, body: { ...doc.body } });
    return `0-${current + 1}`;
  }

  async ensureFullCommit(): Promise<string> {
    return '0';
  }

  async changesSince(since: unknown, options: ChangesOptions): Promise<void> {
    if (options.continuous) throw new Error('the memory source has no continuous feed');
    const from = Number(since);
    [...this.#docs.entries()]
      .filter(([, stored]) => stored.seq > from)
      .sort(([, a], [, b]) => a.seq - b.seq)
      .forEach(([id, stored]) => options.onRow({ id, seq: stored.seq, revs: stored.leaves.map(revOf) }));
  }

  async bulkGet(items: readonly BulkGetItem[]): Promise<Map<string, BulkGetAnswer>> {
    // attachments=false: every attachment is a stub
    return new Map(
      items.map((item) => {
        const leaf = this.leaves(item.id).find((candidate) => revOf(candidate) === item.rev);
        const answer: BulkGetAnswer =
          leaf === undefined ? { error: 'not_found', reason: 'missing' } : { ...leaf, atts: leaf.atts.map((att) => ({ ...att, data: 'stub' as const })) };
        return [bulkGetKey(item.id, item.rev), answer];
      }),
    );
  }

  async openDocRevs(id: string, revs: readonly string[], options: { readonly attsSince: readonly string[] }): Promise<OpenRevsItem[]> {
    return revs.map((rev): OpenRevsItem => {
      const leaf = this.leaves(id).find((candidate) => revOf(candidate) === rev);
      if (leaf === undefined) return { missing: parseRev(rev) };
      // couch_db: attachments not newer than the newest ancestor the target has are stubs
      const path = new Set(leaf.revs.ids.map((revId, index) => revString(leaf.revs.start - index, revId)));
      const sincePos = Math.max(0, ...options.attsSince.filter((ancestor) => path.has(ancestor)).map((ancestor) => parseRev(ancestor).pos));
      return { ok: { ...leaf, atts: leaf.atts.map((att) => ((att.revpos ?? 0) > sincePos ? att : { ...att, data: 'stub' as const })) } };
    });
  }
}
