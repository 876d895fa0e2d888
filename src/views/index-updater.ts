/**
 * Bringing a view index up to date with its database, from the changes feed
 * (CouchDB's update-on-read, `update=true`): every document changed after the
 * index's sequence is mapped again (its winning revision, with `_conflicts`,
 * `_deleted_conflicts` and, with `options.local_seq`, `_local_seq`, as
 * CouchDB's indexer reads it) or dropped when deleted. Design documents are
 * mapped only with `options.include_design`; `_local` documents never appear
 * in the feed.
 *
 * Purges do not show in the changes feed: when the database's purge sequence
 * moved, the purged documents are read again; if the purge history no longer
 * reaches back to the index's purge sequence, the index starts over.
 *
 * All changes of one catch-up are applied together at the end, so queries
 * see either the old or the new state. Between pages of changes the event
 * loop gets a turn, so a long build does not stall other requests.
 */
import { isCouchError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import type { DocRevision } from '../db/read-doc.js';
import { isDesignId } from '../db/names.js';
import { renderDoc } from '../db/render.js';
import type { DocRecord } from '../storage/engine.js';
import type { DocEmits } from './sandbox.js';
import type { ViewIndex } from './view-index.js';

export interface UpdateOptions {
  /** Changes read per storage call (`scanBatchRowsMax`). */
  readonly pageRowsMax: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Maps what changed since `index.updateSeq` and applies it. */
export async function bringUpToDate(index: ViewIndex, db: Database, options: UpdateOptions): Promise<void> {
  const info = await db.store.info();
  const changes = new Map<string, DocEmits | null>();
  let purgeSeq = index.purgeSeq;
  if (info.purgeSeq !== index.purgeSeq) {
    if (index.updateSeq > 0) await collectPurged(index, db, changes);
    purgeSeq = info.purgeSeq;
  }
  let since = index.updateSeq;
  for (;;) {
    const page = await db.changes({ since, limit: options.pageRowsMax, withWinningBodies: true });
    await mapRecords(index, db, page.rows.map((row) => row.record), changes);
    since = page.lastSeq;
    if (!page.more) break;
    await yieldToEventLoop();
  }
  index.apply(changes);
  index.updateSeq = since;
  index.purgeSeq = purgeSeq;
  index.built = true;
}

/** Adds the purged documents to `changes`, or resets the index when the purge history is too short. */
async function collectPurged(index: ViewIndex, db: Database, changes: Map<string, DocEmits | null>): Promise<void> {
  const purged = await db.purgedInfos();
  const oldest = purged[0];
  if (oldest === undefined || oldest.purgeSeq > index.purgeSeq + 1) {
    index.reset();
    return;
  }
  const ids = [...new Set(purged.filter((entry) => entry.purgeSeq > index.purgeSeq).map((entry) => entry.id))];
  const records = await db.records(ids, { withWinningBodies: true });
  ids.forEach((id, i) => {
    if (records[i] === undefined) changes.set(id, null);
  });
  await mapRecords(index, db, records.filter((record): record is DocRecord => record !== undefined), changes);
}

async function mapRecords(index: ViewIndex, db: Database, records: readonly DocRecord[], changes: Map<string, DocEmits | null>): Promise<void> {
  const live: string[] = [];
  const docsJson: string[] = [];
  const design = index.design;
  for (const record of records) {
    if (record.deleted || (isDesignId(record.id) && !design.includeDesign)) {
      changes.set(record.id, null);
      continue;
    }
    let doc: DocRevision;
    try {
      doc = await db.readRecord(record, { conflicts: true, deletedConflicts: true, localSeq: design.localSeq });
    } catch (error) {
      // Its body went away between the two reads (compaction, purge): the next catch-up sees the new state.
      if (!isCouchError(error) || error.status !== 404) throw error;
      changes.set(record.id, null);
      continue;
    }
    live.push(record.id);
    docsJson.push(renderDoc(doc));
  }
  if (live.length === 0) return;
  const emitted = index.map(docsJson);
  live.forEach((id, i) => changes.set(id, emitted[i] ?? null));
}
