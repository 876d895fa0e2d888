/**
 * Attachment data in a SQLite database file: the `attachments` table holds
 * each document's attachment bytes once per digest, whichever revisions name
 * them (a revision's `attachments_json` names its data by digest).
 *
 * Data is written in the transaction of the revision that brings it, so data
 * never exists without a body naming it except after that body is removed
 * (stemming, compaction, purge); compaction then drops it, a chunk of
 * documents per transaction.
 */
import type Database from 'better-sqlite3';
import type { AttachmentBlob } from '../engine.js';
import { decodeBodyRefs, decodeInnerRefs, noBodyRefs } from './doc-state.js';
import type { Connection } from './pool.js';

/** Documents whose attachment data compaction examines per transaction. */
export const attachmentCompactionDocsPerChunk = 200;

/**
 * The table, created with the rest of a new database's schema. A rowid table
 * (attachments can be megabytes); the unique index is the (doc, digest) key.
 */
export function createAttachmentsSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE attachments (
      rowid INTEGER PRIMARY KEY,
      doc_id TEXT NOT NULL,
      digest TEXT NOT NULL,
      data BLOB NOT NULL
    );
    CREATE UNIQUE INDEX attachments_doc_digest ON attachments (doc_id, digest);
  `);
}

/** Stores data the document does not have yet (inside the caller's transaction). */
export function putAttachments(connection: Connection, docId: string, blobs: readonly AttachmentBlob[] | undefined): void {
  if (blobs === undefined || blobs.length === 0) return;
  const insert = connection.statement('INSERT OR IGNORE INTO attachments (doc_id, digest, data) VALUES (?, ?, ?)');
  for (const blob of blobs) insert.run(docId, blob.digest, blob.bytes);
}

export function readAttachment(connection: Connection, docId: string, digest: string): Uint8Array | undefined {
  const data = connection.statement('SELECT data FROM attachments WHERE doc_id = ? AND digest = ?').pluck().get(docId, digest) as
    | Buffer
    | undefined;
  return data === undefined ? undefined : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Drops the data of the next chunk of documents (in id order, after
 * `afterDocId`) that none of the document's stored bodies (leaf or inner) names; returns the
 * last id examined, or undefined at the end.
 */
export function compactAttachmentsChunk(connection: Connection, afterDocId: string): string | undefined {
  return connection.db.transaction(() => {
    const ids = connection
      .statement('SELECT DISTINCT doc_id FROM attachments WHERE doc_id > ? ORDER BY doc_id LIMIT ?')
      .pluck()
      .all(afterDocId, attachmentCompactionDocsPerChunk) as string[];
    const refsOf = connection.statement('SELECT body_refs, inner_refs FROM docs WHERE id = ?').raw(true);
    const metadataOf = connection.statement('SELECT attachments_json FROM bodies WHERE rowid = ?').pluck();
    const digestsOf = connection.statement('SELECT rowid, digest FROM attachments WHERE doc_id = ?').raw(true);
    const remove = connection.statement('DELETE FROM attachments WHERE rowid = ?');
    for (const id of ids) {
      const named = new Set<string>();
      const rowids: number[] = [];
      const refs = refsOf.get(id) as [string, string] | undefined;
      if (refs !== undefined) {
        if (refs[0] !== noBodyRefs) for (const ref of decodeBodyRefs(refs[0]).values()) rowids.push(ref.rowid);
        rowids.push(...decodeInnerRefs(refs[1]).values());
      }
      for (const rowid of rowids) {
        const metadata = metadataOf.get(rowid) as string | undefined;
        if (metadata !== undefined) for (const digest of namedDigests(metadata)) named.add(digest);
      }
      for (const [rowid, digest] of digestsOf.all(id) as [number, string][]) {
        if (!named.has(digest)) remove.run(rowid);
      }
    }
    const last = ids[ids.length - 1];
    return ids.length < attachmentCompactionDocsPerChunk || last === undefined ? undefined : last;
  }).immediate();
}

/** The digests a body's attachment metadata names (the engine's only reading of it). */
function namedDigests(attachmentsJson: string): string[] {
  if (attachmentsJson.length <= 2) return [];
  const metadata = JSON.parse(attachmentsJson) as Record<string, { digest?: unknown }>;
  const digests: string[] = [];
  for (const member of Object.values(metadata)) if (typeof member.digest === 'string') digests.push(member.digest);
  return digests;
}
