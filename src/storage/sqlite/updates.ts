/**
 * The write paths of a SQLite database store: the running totals kept in the
 * `meta` row, record replacement, body storage and removal, and compaction of
 * one chunk.
 * Every function here runs inside a transaction its caller opened.
 */
import type { DocWrite, RevisionBody } from '../engine.js';
import { decodeBodyRefs, encodeBodyRefs, forgetStates, noBodyRefs, type BodyRef, type RowState } from './doc-state.js';
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

/**
 * A document's current row, from the memo a read left (doc-state.ts) or read
 * now; `null` if the document has none.
 */
export function currentState(
  connection: Connection,
  memo: ReadonlyMap<string, RowState | null>,
  id: string,
): RowState | null {
  const remembered = memo.get(id);
  if (remembered !== undefined) return remembered;
  const row = connection
    .statement('SELECT seq, deleted, active_bytes, body_refs FROM docs WHERE id = ?')
    .raw(true)
    .get(id) as [number, number, number, string] | undefined;
  return row === undefined ? null : { seq: row[0], deleted: row[1] !== 0, activeBytes: row[2], bodyRefsText: row[3] };
}

/** Removes a document's current row and takes it out of the totals; returns its body refs. */
export function removeRow(connection: Connection, state: RowState | null, totals: Totals): Map<string, BodyRef> {
  if (state === null) return new Map();
  connection.statement('DELETE FROM docs WHERE seq = ?').run(state.seq);
  if (state.deleted) totals.docDelCount -= 1;
  else totals.docCount -= 1;
  totals.activeBytes -= state.activeBytes;
  return state.bodyRefsText === noBodyRefs ? new Map() : decodeBodyRefs(state.bodyRefsText);
}

/** Stores bodies not stored yet (a body already stored is kept as it is). */
export function addBodies(connection: Connection, refs: Map<string, BodyRef>, bodies: readonly RevisionBody[]): void {
  if (bodies.length === 0) return;
  const insert = connection.statement('INSERT INTO bodies (json, attachments_json) VALUES (?, ?)');
  for (const body of bodies) {
    if (refs.has(body.rev)) continue;
    const rowid = Number(insert.run(body.json, body.attachmentsJson).lastInsertRowid);
    refs.set(body.rev, { rowid, bytes: Buffer.byteLength(body.json) + Buffer.byteLength(body.attachmentsJson) });
  }
}

/** Deletes the stored bodies of the given revisions (those not stored are ignored). */
export function deleteBodies(connection: Connection, refs: Map<string, BodyRef>, revs: Iterable<string>): void {
  const remove = connection.statement('DELETE FROM bodies WHERE rowid = ?');
  for (const rev of revs) {
    const ref = refs.get(rev);
    if (ref === undefined) continue;
    remove.run(ref.rowid);
    refs.delete(rev);
  }
}

/** Deletes every body a document still has. */
export function deleteAllBodies(connection: Connection, refs: Map<string, BodyRef>): void {
  deleteBodies(connection, refs, [...refs.keys()]);
}

/** Stores a record at the next sequence (its previous row must be removed already). */
export function insertRecord(
  connection: Connection,
  record: Omit<DocWrite, 'newBodies' | 'removedRevs'>,
  refs: ReadonlyMap<string, BodyRef>,
  totals: Totals,
): number {
  const treeText = encodeTree(record.tree);
  const activeBytes = Buffer.byteLength(treeText) + (refs.get(record.winningRev)?.bytes ?? 0);
  totals.updateSeq += 1;
  connection
    .statement(
      'INSERT INTO docs (seq, id, deleted, winning_rev, tree, active_bytes, body_refs) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      totals.updateSeq,
      record.id,
      record.deleted ? 1 : 0,
      record.winningRev,
      treeText,
      activeBytes,
      refs.size === 0 ? noBodyRefs : encodeBodyRefs(refs),
    );
  if (record.deleted) totals.docDelCount += 1;
  else totals.docCount += 1;
  totals.activeBytes += activeBytes;
  return totals.updateSeq;
}

export function trimPurgedInfos(connection: Connection): void {
  const meta = readMeta(connection);
  connection.statement('DELETE FROM purged_infos WHERE purge_seq <= ?').run(meta.purge_seq - meta.purged_infos_limit);
}

/**
 * Compacts the bodies of the next chunk of documents, in sequence order;
 * returns the last seq done, or undefined at the end. A document written
 * meanwhile moves to a higher seq, so the walk still reaches it.
 */
export function compactChunk(connection: Connection, afterSeq: number): number | undefined {
  return connection.db.transaction(() => {
    forgetStates(connection);
    const rows = connection
      .statement('SELECT seq, tree, body_refs FROM docs WHERE seq > ? ORDER BY seq LIMIT ?')
      .raw(true)
      .all(afterSeq, compactionDocsPerChunk) as [number, string, string][];
    const update = connection.statement('UPDATE docs SET body_refs = ? WHERE seq = ?');
    for (const [seq, treeText, refsText] of rows) {
      const refs = decodeBodyRefs(refsText);
      if (refs.size <= 1) continue;
      const leaves = leafRevs(decodeTree(treeText));
      const dropped = [...refs.keys()].filter((rev) => !leaves.has(rev));
      if (dropped.length === 0) continue;
      deleteBodies(connection, refs, dropped);
      update.run(encodeBodyRefs(refs), seq);
    }
    const last = rows[rows.length - 1];
    return rows.length < compactionDocsPerChunk || last === undefined ? undefined : last[0];
  }).immediate();
}
