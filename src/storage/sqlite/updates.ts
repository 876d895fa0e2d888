/**
 * The write paths of a SQLite database store: the running totals kept in the
 * `meta` row, record replacement, body removal and compaction of one chunk.
 * Every function here runs inside a transaction its caller opened.
 */
import type { DocWrite, RevisionBody } from '../engine.js';
import type { Connection } from './pool.js';
import { decodeTree, encodeTree, leafRevs } from './tree-codec.js';

/** Documents compaction examines per transaction, between which it yields. */
export const compactionDocsPerChunk = 500;

export interface MetaRow {
  update_seq: number;
  purge_seq: number;
  doc_count: number;
  doc_del_count: number;
  active_bytes: number;
  revs_limit: number;
  security_json: string;
  purged_infos_limit: number;
  uuid: string;
  created_micros: number;
}

/** Running totals of a write transaction, stored back to `meta` at its end. */
export interface Totals {
  updateSeq: number;
  docCount: number;
  docDelCount: number;
  activeBytes: number;
}

export function readMeta(connection: Connection): MetaRow {
  return connection.statement('SELECT * FROM meta').get() as MetaRow;
}

export function readTotals(connection: Connection): Totals {
  const meta = readMeta(connection);
  return {
    updateSeq: meta.update_seq,
    docCount: meta.doc_count,
    docDelCount: meta.doc_del_count,
    activeBytes: meta.active_bytes,
  };
}

export function writeTotals(connection: Connection, totals: Totals): void {
  connection
    .statement('UPDATE meta SET update_seq = ?, doc_count = ?, doc_del_count = ?, active_bytes = ?')
    .run(totals.updateSeq, totals.docCount, totals.docDelCount, totals.activeBytes);
}

/** Takes a document's current record out of the totals (it is about to be replaced or removed). */
export function subtractCurrent(connection: Connection, id: string, totals: Totals): void {
  const row = connection.statement('SELECT deleted, active_bytes FROM docs WHERE id = ?').get(id) as
    | { deleted: number; active_bytes: number }
    | undefined;
  if (row === undefined) return;
  if (row.deleted !== 0) totals.docDelCount -= 1;
  else totals.docCount -= 1;
  totals.activeBytes -= row.active_bytes;
}

/** Stores a record at the next sequence, replacing the document's previous row. */
export function putRecord(
  connection: Connection,
  record: Omit<DocWrite, 'newBodies' | 'removedRevs'>,
  newBodies: readonly RevisionBody[],
  totals: Totals,
): number {
  const treeText = encodeTree(record.tree);
  const activeBytes = Buffer.byteLength(treeText) + winningBodyBytes(connection, record, newBodies);
  totals.updateSeq += 1;
  connection
    .statement('INSERT OR REPLACE INTO docs (seq, id, tree, winning_rev, deleted, active_bytes) VALUES (?, ?, ?, ?, ?, ?)')
    .run(totals.updateSeq, record.id, treeText, record.winningRev, record.deleted ? 1 : 0, activeBytes);
  if (record.deleted) totals.docDelCount += 1;
  else totals.docCount += 1;
  totals.activeBytes += activeBytes;
  return totals.updateSeq;
}

export function winningBodyBytes(
  connection: Connection,
  record: { id: string; winningRev: string },
  newBodies: readonly RevisionBody[],
): number {
  const body = newBodies.find((candidate) => candidate.rev === record.winningRev);
  if (body !== undefined) return Buffer.byteLength(body.json) + Buffer.byteLength(body.attachmentsJson);
  const row = connection
    .statement(
      'SELECT length(CAST(json AS BLOB)) + length(CAST(attachments_json AS BLOB)) AS bytes FROM bodies WHERE id = ? AND rev = ?',
    )
    .get(record.id, record.winningRev) as { bytes: number } | undefined;
  return row?.bytes ?? 0;
}

export function deleteBodies(connection: Connection, id: string, revs: readonly string[]): void {
  const statement = connection.statement('DELETE FROM bodies WHERE id = ? AND rev = ?');
  for (const rev of revs) statement.run(id, rev);
}

export function trimPurgedInfos(connection: Connection): void {
  const meta = readMeta(connection);
  connection.statement('DELETE FROM purged_infos WHERE purge_seq <= ?').run(meta.purge_seq - meta.purged_infos_limit);
}

/** Compacts the bodies of the next chunk of documents; returns the last id done, or undefined at the end. */
export function compactChunk(connection: Connection, afterId: string | undefined): string | undefined {
  return connection.db.transaction(() => {
    const ids = (
      afterId === undefined
        ? connection.statement('SELECT DISTINCT id FROM bodies ORDER BY id LIMIT ?').all(compactionDocsPerChunk)
        : connection
            .statement('SELECT DISTINCT id FROM bodies WHERE id > ? ORDER BY id LIMIT ?')
            .all(afterId, compactionDocsPerChunk)
    ) as { id: string }[];
    for (const { id } of ids) {
      const row = connection.statement('SELECT tree FROM docs WHERE id = ?').get(id) as { tree: string } | undefined;
      if (row === undefined) {
        connection.statement('DELETE FROM bodies WHERE id = ?').run(id);
        continue;
      }
      const leaves = leafRevs(decodeTree(row.tree));
      const revs = connection.statement('SELECT rev FROM bodies WHERE id = ?').all(id) as { rev: string }[];
      deleteBodies(
        connection,
        id,
        revs.map((body) => body.rev).filter((rev) => !leaves.has(rev)),
      );
    }
    return ids.length < compactionDocsPerChunk ? undefined : ids[ids.length - 1]?.id;
  }).immediate();
}
