/**
 * Selectors over the changes feed: which revisions of a changed document
 * match, as `couch_changes:filter/5` decides for `{selector, Style, _}` —
 * the winner (`main_only`) or every leaf (`all_docs`), each rendered as
 * CouchDB renders it (`_deleted: true` for tombstones) and matched on its own.
 * Shared by the `_selector` filter of `_changes` and local replication sources.
 */
import { leaves } from '../core/revtree.js';
import type { ChangeRow } from '../db/changes.js';
import type { Database } from '../db/database.js';
import type { DocRecord } from '../storage/engine.js';
import { matchesSelector, type Selector } from './selector.js';

/** The revisions of `record` that match: its winner, or with `all_docs` its leaves. */
export async function matchingRevs(
  db: Database,
  selector: Selector,
  record: DocRecord,
  style: 'main_only' | 'all_docs',
): Promise<string[]> {
  const candidates = style === 'all_docs' ? leafRevisions(record) : [{ rev: record.winningRev, deleted: record.deleted }];
  return matchingOf(db, selector, record, candidates);
}

/** Change rows narrowed to the revisions that match; rows with none are dropped. */
export async function selectChangeRows(db: Database, selector: Selector, rows: readonly ChangeRow[]): Promise<ChangeRow[]> {
  const kept: ChangeRow[] = [];
  for (const row of rows) {
    const listed = new Set(row.changes.map((change) => change.rev));
    const candidates = leafRevisions(row.record).filter((leaf) => listed.has(leaf.rev));
    const matching = await matchingOf(db, selector, row.record, candidates);
    if (matching.length > 0) kept.push({ ...row, changes: row.changes.filter((change) => matching.includes(change.rev)) });
  }
  return kept;
}

function leafRevisions(record: DocRecord): { rev: string; deleted: boolean }[] {
  return leaves(record.tree).map((leaf) => ({ rev: `${leaf.pos}-${leaf.hash}`, deleted: leaf.deleted }));
}

async function matchingOf(
  db: Database,
  selector: Selector,
  record: DocRecord,
  candidates: readonly { readonly rev: string; readonly deleted: boolean }[],
): Promise<string[]> {
  if (candidates.length === 0) return [];
  const docs = await db.revisionObjects(record, candidates);
  return docs.filter(({ doc }) => matchesSelector(selector, doc)).map(({ rev }) => rev);
}
