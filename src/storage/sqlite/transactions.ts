/**
 * Every change a SQLite database store makes, as one operation each: the
 * bodies of its write transactions. The same functions run on the main thread
 * (inline mode) and in the write worker (write-worker.ts), so operations are
 * plain data that cross `postMessage`: trees arrive encoded, bodies as text.
 */
import type {
  AttachmentBlob,
  DatabaseProperties,
  DocWrite,
  LocalDoc,
  PurgeRequest,
  RevisionBody,
  WriteResult,
} from '../engine.js';
import { compactAttachmentsChunk, putAttachments } from './attachments.js';
import { takeStates } from './doc-state.js';
import type { Connection } from './pool.js';
import { encodeTree } from './tree-codec.js';
import {
  addBodies,
  compactChunk,
  currentState,
  deleteAllBodies,
  deleteBodies,
  insertRecord,
  readMeta,
  readTotals,
  removeRow,
  retireInnerRefs,
  trimPurgedInfos,
  writeTotals,
  type StoredRecord,
} from './updates.js';

/** A `DocWrite` with its tree encoded. */
export interface EncodedDocWrite extends StoredRecord {
  readonly newBodies: readonly RevisionBody[];
  readonly newAttachments?: readonly AttachmentBlob[];
  readonly removedRevs: readonly string[];
}

export interface EncodedPurgeRequest {
  readonly id: string;
  readonly record: (StoredRecord & { readonly removedRevs: readonly string[] }) | null;
  readonly purgedRevs: readonly string[];
}

export interface PurgeResult {
  readonly purgeSeq: number;
  readonly updateSeq: number;
}

export type WriteOperation =
  | { readonly kind: 'write'; readonly docs: readonly EncodedDocWrite[] }
  | { readonly kind: 'purge'; readonly requests: readonly EncodedPurgeRequest[] }
  | { readonly kind: 'setProperties'; readonly changes: Partial<DatabaseProperties> }
  | { readonly kind: 'putLocal'; readonly doc: LocalDoc }
  | { readonly kind: 'deleteLocal'; readonly id: string }
  | { readonly kind: 'compactDocs'; readonly afterSeq: number }
  | { readonly kind: 'compactAttachments'; readonly afterId: string }
  | { readonly kind: 'finishCompaction' };

interface OperationResults {
  write: WriteResult;
  purge: PurgeResult;
  setProperties: undefined;
  putLocal: undefined;
  deleteLocal: boolean;
  compactDocs: number | undefined;
  compactAttachments: string | undefined;
  finishCompaction: undefined;
}

export type WriteOperationResult<O extends WriteOperation> = OperationResults[O['kind']];

/**
 * Encodes a write for the transaction. `withTree` keeps the tree object too
 * (inline mode: it spares decoding the text again); a message to the worker
 * carries only the text.
 */
export function encodeDocWrite(doc: DocWrite, options: { withTree: boolean }): EncodedDocWrite {
  const encoded = {
    id: doc.id,
    treeText: encodeTree(doc.tree),
    winningRev: doc.winningRev,
    deleted: doc.deleted,
    newBodies: doc.newBodies,
    removedRevs: doc.removedRevs,
  };
  const attachments = doc.newAttachments === undefined ? {} : { newAttachments: doc.newAttachments };
  return options.withTree ? { ...encoded, ...attachments, tree: doc.tree } : { ...encoded, ...attachments };
}

export function encodePurgeRequest(request: PurgeRequest): EncodedPurgeRequest {
  const record = request.record;
  return {
    id: request.id,
    purgedRevs: request.purgedRevs,
    record:
      record === null
        ? null
        : {
            id: record.id,
            treeText: encodeTree(record.tree),
            winningRev: record.winningRev,
            deleted: record.deleted,
            removedRevs: record.removedRevs,
          },
  };
}

/** Runs one operation on the database's write connection; transactions commit before it returns. */
export function runWriteOperation<O extends WriteOperation>(connection: Connection, operation: O): WriteOperationResult<O> {
  return runOperation(connection, operation) as WriteOperationResult<O>;
}

function runOperation(connection: Connection, operation: WriteOperation): OperationResults[keyof OperationResults] {
  switch (operation.kind) {
    case 'write':
      return writeDocs(connection, operation.docs);
    case 'purge':
      return purgeDocs(connection, operation.requests);
    case 'setProperties':
      setProperties(connection, operation.changes);
      return undefined;
    case 'putLocal':
      connection
        .statement('INSERT OR REPLACE INTO locals (id, rev, json) VALUES (?, ?, ?)')
        .run(operation.doc.id, operation.doc.rev, operation.doc.json);
      return undefined;
    case 'deleteLocal':
      return connection.statement('DELETE FROM locals WHERE id = ?').run(operation.id).changes > 0;
    case 'compactDocs':
      return compactChunk(connection, operation.afterSeq);
    case 'compactAttachments':
      return compactAttachmentsChunk(connection, operation.afterId);
    case 'finishCompaction':
      connection.db.pragma('wal_checkpoint(TRUNCATE)');
      connection.db.pragma('incremental_vacuum');
      connection.db.pragma('wal_checkpoint(TRUNCATE)');
      return undefined;
  }
}

function writeDocs(connection: Connection, docs: readonly EncodedDocWrite[]): WriteResult {
  return connection.db
    .transaction(() => {
      const memo = takeStates(connection);
      const totals = readTotals(connection);
      const seqs: number[] = [];
      for (const doc of docs) {
        const refs = removeRow(connection, currentState(connection, memo, doc.id), totals);
        deleteBodies(connection, refs, doc.removedRevs);
        addBodies(connection, refs.leaves, doc.newBodies);
        retireInnerRefs(doc, refs);
        putAttachments(connection, doc.id, doc.newAttachments);
        seqs.push(insertRecord(connection, doc, refs, totals));
      }
      if (seqs.length > 0) writeTotals(connection, totals);
      return { seqs, updateSeq: totals.updateSeq };
    })
    .immediate();
}

function purgeDocs(connection: Connection, requests: readonly EncodedPurgeRequest[]): PurgeResult {
  return connection.db
    .transaction(() => {
      const memo = takeStates(connection);
      const totals = readTotals(connection);
      const updateSeqBefore = totals.updateSeq;
      let purgeSeq = readMeta(connection).purge_seq;
      const recordPurge = connection.statement('INSERT INTO purged_infos (purge_seq, id, revs) VALUES (?, ?, ?)');
      for (const request of requests) {
        const refs = removeRow(connection, currentState(connection, memo, request.id), totals);
        deleteBodies(connection, refs, request.purgedRevs);
        if (request.record === null) {
          deleteAllBodies(connection, refs);
        } else {
          deleteBodies(connection, refs, request.record.removedRevs);
          insertRecord(connection, request.record, refs, totals);
        }
        purgeSeq += 1;
        recordPurge.run(purgeSeq, request.id, JSON.stringify(request.purgedRevs));
      }
      // Only removals: CouchDB still bumps the update sequence by one.
      if (requests.length > 0 && totals.updateSeq === updateSeqBefore) totals.updateSeq += 1;
      writeTotals(connection, totals);
      connection.statement('UPDATE meta SET purge_seq = ?').run(purgeSeq);
      trimPurgedInfos(connection);
      return { purgeSeq, updateSeq: totals.updateSeq };
    })
    .immediate();
}

function setProperties(connection: Connection, changes: Partial<DatabaseProperties>): void {
  connection.db
    .transaction(() => {
      connection
        .statement(
          `UPDATE meta SET revs_limit = coalesce(?, revs_limit), security_json = coalesce(?, security_json),
             purged_infos_limit = coalesce(?, purged_infos_limit)`,
        )
        .run(changes.revsLimit ?? null, changes.securityJson ?? null, changes.purgedInfosLimit ?? null);
      if (changes.purgedInfosLimit !== undefined) trimPurgedInfos(connection);
    })
    .immediate();
}
