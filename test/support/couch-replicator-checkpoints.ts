/**
 * Replication checkpoints as `couch_replicator_scheduler_job` keeps them:
 * the `_local/<replication id>` document on both ends, found (and migrated
 * from older replication-id versions) at start, compared to pick the start
 * sequence, and written with CouchDB's body after `_ensure_full_commit`.
 */
import { createHash } from 'node:crypto';
import type { CouchDoc } from './couch-doc-json.js';
import { parseRev } from './couch-doc-json.js';
import type { CheckpointEndpoint } from './couch-replicator-api.js';
import { DocWriteError } from './couch-replicator-api.js';
import type { ReplicationStats } from './couch-replicator-worker.js';
import { replicationId } from '../../src/replicator/replication-id.js';

export const replicationIdVersion = 4;
const historyLengthMax = 50;

/** The version 4 replication id CouchDB computes (server uuid, both URLs, their users). */
export function couchReplicationId(serverUuid: string, sourceUrl: string, targetUrl: string): string {
  const identity = (text: string) => {
    const url = new URL(text);
    const user = url.username === '' ? undefined : decodeURIComponent(url.username);
    url.username = '';
    url.password = '';
    return { url: url.href.endsWith('/') ? url.href : `${url.href}/`, headers: [], ...(user !== undefined ? { user } : {}) };
  };
  return replicationId({ serverUuid, source: identity(sourceUrl), target: identity(targetUrl) }).baseId;
}

/** find_and_migrate_logs for one end: the current id, then those of replication-id versions 3, 2, 1. */
export async function findLog(endpoint: CheckpointEndpoint, baseId: string): Promise<CouchDoc> {
  const logId = `_local/${baseId}`;
  for (let version = replicationIdVersion; version >= 1; version--) {
    // stand-ins for the older ids (CouchDB hashes other terms: host name, port, endpoint records)
    const id = version === replicationIdVersion ? logId : `_local/${createHash('md5').update(`v${version}:${baseId}`).digest('hex')}`;
    const found = await endpoint.openDoc(id);
    if ('error' in found) {
      if (found.error !== 'not_found') throw new Error(`open_doc ${id} on ${endpoint.name}: ${String(found.error)}`);
      continue;
    }
    if (id === logId) return found;
    // maybe_save_migrated_log: the old log is written under the new id
    const migrated: CouchDoc = { id: logId, revs: { start: 0, ids: [] }, deleted: false, body: found.body, atts: [] };
    const rev = await endpoint.updateDoc(migrated, { replicated: false, delayCommit: true });
    return { ...migrated, revs: { start: parseRev(rev).pos, ids: [parseRev(rev).id] } };
  }
  return { id: logId, revs: { start: 0, ids: [] }, deleted: false, body: {}, atts: [] };
}

/** compare_replication_logs / compare_rep_history. */
export function compareReplicationLogs(source: Record<string, unknown>, target: Record<string, unknown>): { startSeq: unknown; history: unknown[] } {
  if (source['session_id'] === target['session_id']) {
    return { startSeq: source['source_last_seq'] ?? 0, history: (source['history'] as unknown[] | undefined) ?? [] };
  }
  const sessionOf = (entry: unknown) => (entry as Record<string, unknown>)['session_id'];
  let sourceRest = (source['history'] as unknown[] | undefined) ?? [];
  let targetRest = (target['history'] as unknown[] | undefined) ?? [];
  while (sourceRest.length > 0 && targetRest.length > 0) {
    const [sourceEntry, ...sourceTail] = sourceRest;
    const [targetEntry, ...targetTail] = targetRest;
    if (targetRest.some((entry) => sessionOf(entry) === sessionOf(sourceEntry))) {
      return { startSeq: (sourceEntry as Record<string, unknown>)['recorded_seq'] ?? 0, history: sourceTail };
    }
    if (sourceTail.some((entry) => sessionOf(entry) === sessionOf(targetEntry))) {
      return { startSeq: (targetEntry as Record<string, unknown>)['recorded_seq'] ?? 0, history: targetTail };
    }
    sourceRest = sourceTail;
    targetRest = targetTail;
  }
  return { startSeq: 0, history: [] };
}

export interface CheckpointInput {
  readonly sessionId: string;
  readonly startedAt: Date;
  readonly startSeq: unknown;
  readonly throughSeq: unknown;
  readonly stats: ReplicationStats;
  readonly history: readonly unknown[];
}

/** do_checkpoint's `NewRepHistory`: the same body goes to both ends. */
export function checkpointBody(input: CheckpointInput): Record<string, unknown> {
  const { stats } = input;
  const entry = {
    session_id: input.sessionId,
    start_time: input.startedAt.toUTCString(),
    end_time: new Date().toUTCString(),
    start_last_seq: input.startSeq,
    end_last_seq: input.throughSeq,
    recorded_seq: input.throughSeq,
    missing_checked: stats.missingChecked,
    missing_found: stats.missingFound,
    docs_read: stats.docsRead,
    docs_written: stats.docsWritten,
    doc_write_failures: stats.docWriteFailures,
    bulk_get_docs: stats.bulkGetDocs,
    bulk_get_attempts: stats.bulkGetAttempts,
  };
  return {
    session_id: input.sessionId,
    source_last_seq: input.throughSeq,
    replication_id_version: replicationIdVersion,
    history: [entry, ...input.history].slice(0, historyLengthMax),
  };
}

/** update_checkpoint: PUT with delay_commit; a conflict is fine when the stored body is ours (a retried write). */
export async function updateCheckpoint(endpoint: CheckpointEndpoint, doc: CouchDoc): Promise<string> {
  try {
    return await endpoint.updateDoc(doc, { replicated: false, delayCommit: true });
  } catch (error) {
    if (!(error instanceof DocWriteError) || error.error !== 'conflict') throw error;
    const stored = await endpoint.openDoc(doc.id);
    if ('error' in stored || JSON.stringify(stored.body) !== JSON.stringify(doc.body)) throw new Error('checkpoint_commit_failure: conflict');
    return `0-${stored.revs.ids[0] ?? ''}`;
  }
}
