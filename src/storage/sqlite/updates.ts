/**
 * The write paths of a SQLite database store: the running totals kept in the
 * `meta` row, record replacement, body storage and removal, and compaction of
 * one chunk.
 * Every function here runs inside a transaction its caller opened.
 */
import type { RevTree } from '../../core/rev.js';
import type { RevisionBody } from '../engine.js';
import {
  appendInnerRef,
  decodeBodyRefs,
  decodeInnerRefs,
  encodeBodyRefs,
  encodeInnerRefs,
  forgetStates,
  noBodyRefs,
  type BodyRef,
  type RowState,
} from './doc-state.js';
import type { Connection } from './pool.js';
import { decodeTree, leafRevs } from './tree-codec.js';

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
    .statement('SELECT seq, deleted, active_bytes, body_refs, inner_refs FROM docs WHERE id = ?')
    .raw(true)
    .get(id) as [number, number, number, string, string] | undefined;
  return row === undefined
    ? null
    : { seq: row[0], deleted: row[1] !== 0, activeBytes: row[2], bodyRefsText: row[3], innerRefsText: row[4] };
}

/** A document's stored bodies while a write changes them: leaf refs decoded, inner refs as text. */
export interface StoredBodies {
  readonly leaves: Map<string, BodyRef>;
  /** `inner_refs` text (doc-state.ts). */
  inner: string;
}

/** Removes a document's current row and takes it out of the totals; returns its stored bodies. */
export function removeRow(connection: Connection, state: RowState | null, totals: Totals): StoredBodies {
  if (state === null) return { leaves: new Map(), inner: '' };
  connection.statement('DELETE FROM docs WHERE seq = ?').run(state.seq);
  if (state.deleted) totals.docDelCount -= 1;
  else totals.docCount -= 1;
  totals.activeBytes -= state.activeBytes;
  const leaves = state.bodyRefsText === noBodyRefs ? new Map<string, BodyRef>() : decodeBodyRefs(state.bodyRefsText);
  return { leaves, inner: state.innerRefsText };
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

/**
 * Deletes the stored bodies of the given revisions, leaf or inner; those not
 * stored are ignored. Inner refs are decoded only when a revision is not a leaf.
 */
export function deleteBodies(connection: Connection, bodies: StoredBodies, revs: Iterable<string>): void {
  const remove = connection.statement('DELETE FROM bodies WHERE rowid = ?');
  let inner: Map<string, number> | undefined;
  for (const rev of revs) {
    const ref = bodies.leaves.get(rev);
    if (ref !== undefined) {
      remove.run(ref.rowid);
      bodies.leaves.delete(rev);
      continue;
    }
    if (bodies.inner.length === 0) continue;
    inner ??= decodeInnerRefs(bodies.inner);
    const rowid = inner.get(rev);
    if (rowid === undefined) continue;
    remove.run(rowid);
    inner.delete(rev);
  }
  if (inner !== undefined) bodies.inner = encodeInnerRefs(inner);
}

/** Deletes every body a document still has, leaf or inner. */
export function deleteAllBodies(connection: Connection, bodies: StoredBodies): void {
  const remove = connection.statement('DELETE FROM bodies WHERE rowid = ?');
  for (const ref of bodies.leaves.values()) remove.run(ref.rowid);
  bodies.leaves.clear();
  for (const rowid of decodeInnerRefs(bodies.inner).values()) remove.run(rowid);
  bodies.inner = '';
}

/**
 * A record as the write path stores it: the tree already encoded (the worker
 * receives text, not objects); `tree`, when the caller still has it, spares
 * decoding the text to find the leaves.
 */
export interface StoredRecord {
  readonly id: string;
  readonly treeText: string;
  readonly tree?: RevTree;
  readonly winningRev: string;
  readonly deleted: boolean;
}

/**
 * Moves the refs of revisions that are no longer leaves of the record's tree
 * from the leaf refs to the inner refs (appended as text), so the leaf refs stay
 * as small as the number of leaves. The winner is always a leaf: a lone ref
 * naming it needs no tree walk.
 */
export function retireInnerRefs(record: StoredRecord, bodies: StoredBodies): void {
  const refs = bodies.leaves;
  if (refs.size === 0 || (refs.size === 1 && refs.has(record.winningRev))) return;
  const leaves = leafRevs(record.tree ?? decodeTree(record.treeText));
  for (const [rev, ref] of refs) {
    if (leaves.has(rev)) continue;
    bodies.inner = appendInnerRef(bodies.inner, rev, ref.rowid);
    refs.delete(rev);
  }
}

/** Stores a record at the next sequence (its previous row must be removed already). */
export function insertRecord(connection: Connection, record: StoredRecord, bodies: StoredBodies, totals: Totals): number {
  const refs = bodies.leaves;
  const treeText = record.treeText;
  const winning = refs.get(record.winningRev);
  const activeBytes = Buffer.byteLength(treeText) + (winning?.bytes ?? 0);
  totals.updateSeq += 1;
  connection
    .statement(
      `INSERT INTO docs (seq, id, deleted, winning_rev, winning_body, tree, active_bytes, body_refs, inner_refs)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      totals.updateSeq,
      record.id,
      record.deleted ? 1 : 0,
      record.winningRev,
      winning?.rowid ?? null,
      treeText,
      activeBytes,
      refs.size === 0 ? noBodyRefs : encodeBodyRefs(refs),
      bodies.inner,
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
 * Drops the inner-revision bodies of the next chunk of documents, in sequence
 * order; returns the last seq done, or undefined at the end. A document
 * written meanwhile moves to a higher seq, so the walk still reaches it.
 * Every inner ref names a revision that is not a leaf (a write moves a ref
 * there only then, and no edit or purge turns an inner revision back into a
 * leaf), so they all go.
 */
export function compactChunk(connection: Connection, afterSeq: number): number | undefined {
  return connection.db.transaction(() => {
    forgetStates(connection);
    const rows = connection
      .statement('SELECT seq, inner_refs FROM docs WHERE seq > ? ORDER BY seq LIMIT ?')
      .raw(true)
      .all(afterSeq, compactionDocsPerChunk) as [number, string][];
    const removeBody = connection.statement('DELETE FROM bodies WHERE rowid = ?');
    const clear = connection.statement("UPDATE docs SET inner_refs = '' WHERE seq = ?");
    for (const [seq, innerText] of rows) {
      if (innerText.length === 0) continue;
      for (const rowid of decodeInnerRefs(innerText).values()) removeBody.run(rowid);
      clear.run(seq);
    }
    const last = rows[rows.length - 1];
    return rows.length < compactionDocsPerChunk || last === undefined ? undefined : last[0];
  }).immediate();
}
