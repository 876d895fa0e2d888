/**
 * Reading documents: one revision with its optional metadata
 * (`_revisions`, `_revs_info`, `_conflicts`, `_deleted_conflicts`,
 * `_local_seq`), and `open_revs`. Bodies stay JSON text all the way to the
 * client; `render.ts` splices the special members around them.
 */
import { notFound } from '../core/errors.js';
import type { Rev, RevLeaf } from '../core/rev.js';
import { compareRevs, formatRev, parseRev } from '../core/rev.js';
import { conflicts, findRev, leaves, leavesUnder, revisionsHistory, revsInfo, winner } from '../core/revtree.js';
import type { DatabaseStore, DocRecord } from '../storage/engine.js';

export interface ReadOptions {
  /** A specific revision (default: the winner). */
  readonly rev?: Rev;
  readonly revs?: boolean;
  readonly revsInfo?: boolean;
  readonly conflicts?: boolean;
  readonly deletedConflicts?: boolean;
  /** With `rev`: answer the winning live leaf below it instead. */
  readonly latest?: boolean;
  readonly localSeq?: boolean;
  /** `revs_info`, `conflicts` and `deleted_conflicts` together. */
  readonly meta?: boolean;
}

/** One revision of a document, ready to render. */
export interface DocRevision {
  readonly id: string;
  readonly rev: string;
  readonly deleted: boolean;
  /** Body without special members, CouchDB output-form JSON text. */
  readonly bodyJson: string;
  /** Stored attachment metadata (attachments.ts); `render.ts` turns it into stubs. */
  readonly attachmentsJson: string;
  readonly revisions?: { readonly start: number; readonly ids: readonly string[] };
  readonly revsInfo?: readonly { readonly rev: string; readonly status: string }[];
  readonly conflicts?: readonly string[];
  readonly deletedConflicts?: readonly string[];
  readonly localSeq?: number;
}

export type OpenRevsResult = { readonly ok: DocRevision } | { readonly missing: string };

/**
 * Reads one revision; 404 `missing`/`deleted` as CouchDB answers. The winner's
 * body comes from the record when the read brought it (`winningBody`), and
 * the tree is walked only for what needs it (`rev`, `revs`, `revs_info`,
 * conflicts).
 */
export async function readDoc(store: DatabaseStore, record: DocRecord | undefined, options: ReadOptions): Promise<DocRevision> {
  if (record === undefined) throw notFound('missing');
  const withMeta = options.rev === undefined;
  const wantRevsInfo = withMeta && (options.revsInfo === true || options.meta === true);
  const wantConflicts = withMeta && (options.conflicts === true || options.meta === true);
  const wantDeletedConflicts = options.deletedConflicts === true || options.meta === true;
  let target: { pos: number; hash: string; deleted: boolean; path?: readonly string[] };
  if (options.rev === undefined) {
    if (record.deleted) throw notFound('deleted');
    // The record names its winner: the tree (and the winner's path in it) only for `revs`/`revs_info`.
    target = options.revs === true || wantRevsInfo ? winner(record.tree) : { ...parseRev(record.winningRev), deleted: false };
  } else {
    let found = findRev(record.tree, options.rev);
    if (found === undefined) throw notFound('missing');
    if (options.latest === true && !found.isLeaf) {
      const below = leavesUnder(record.tree, options.rev);
      const live = below.filter((leaf) => !leaf.deleted);
      const pick = pickWinner(live.length > 0 ? live : below);
      found = findRev(record.tree, pick) ?? found;
    }
    target = found;
  }
  const rev = `${target.pos}-${target.hash}`;
  const body = record.winningBody?.rev === rev ? record.winningBody : (await store.getBodies(record.id, [rev])).get(rev);
  if (body === undefined) throw notFound('missing');
  const result: {
    -readonly [K in keyof DocRevision]: DocRevision[K];
  } = {
    id: record.id,
    rev,
    deleted: target.deleted,
    bodyJson: body.json,
    attachmentsJson: body.attachmentsJson,
  };
  const path = target.path ?? [];
  if (options.revs === true) result.revisions = revisionsHistory(target.pos, path);
  if (wantRevsInfo) result.revsInfo = await buildRevsInfo(store, record, target.pos, path);
  if (wantConflicts || wantDeletedConflicts) {
    const lists = conflicts(record.tree);
    if (wantConflicts && lists.conflicts.length > 0) result.conflicts = lists.conflicts;
    if (wantDeletedConflicts && lists.deletedConflicts.length > 0) result.deletedConflicts = lists.deletedConflicts;
  }
  if (options.localSeq === true) result.localSeq = record.seq;
  return result;
}

async function buildRevsInfo(store: DatabaseStore, record: DocRecord, pos: number, path: readonly string[]) {
  const revs = path.map((hash, index) => `${pos - index}-${hash}`);
  const stored = await store.getBodies(record.id, revs);
  const deletedRevs = new Set<string>();
  for (const leaf of leaves(record.tree)) if (leaf.deleted) deletedRevs.add(`${leaf.pos}-${leaf.hash}`);
  return revsInfo(pos, path, (rev) => {
    if (!stored.has(rev)) return 'missing';
    const parsed = findRevDeleted(record, rev);
    return parsed ? 'deleted' : 'available';
  });
}

function findRevDeleted(record: DocRecord, rev: string): boolean {
  const dash = rev.indexOf('-');
  const found = findRev(record.tree, { pos: Number(rev.slice(0, dash)), hash: rev.slice(dash + 1) });
  return found?.deleted ?? false;
}

/** CouchDB's winner order among some leaves: live first, then pos, then hash. */
function pickWinner(candidates: readonly RevLeaf[]): Rev {
  let best = candidates[0] as RevLeaf;
  for (const leaf of candidates) {
    if (leaf.deleted !== best.deleted) {
      if (!leaf.deleted) best = leaf;
    } else if (compareRevs(leaf, best) > 0) {
      best = leaf;
    }
  }
  return best;
}

export interface OpenRevsOptions {
  readonly revs?: boolean;
  readonly latest?: boolean;
}

/**
 * `open_revs`: every leaf (`'all'`) or the listed revisions, in ascending rev
 * order with `missing` entries last, as CouchDB answers.
 */
export async function openRevs(
  store: DatabaseStore,
  record: DocRecord | undefined,
  requested: 'all' | readonly Rev[],
  options: OpenRevsOptions,
): Promise<OpenRevsResult[]> {
  if (requested === 'all') {
    if (record === undefined) throw notFound('missing');
    const all = leaves(record.tree).slice().sort(compareRevs);
    return readAll(store, record, all, options);
  }
  if (record === undefined) return requested.map((rev) => ({ missing: formatRev(rev) }));
  const found: Rev[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const rev of requested) {
    const node = findRev(record.tree, rev);
    if (node === undefined) {
      missing.push(formatRev(rev));
      continue;
    }
    const targets = options.latest === true ? leavesUnder(record.tree, rev) : [rev];
    for (const target of targets) {
      const key = formatRev(target);
      if (!seen.has(key)) {
        seen.add(key);
        found.push({ pos: target.pos, hash: target.hash });
      }
    }
  }
  found.sort(compareRevs);
  const results = await readAll(store, record, found, options);
  return [...results, ...missing.map((rev) => ({ missing: rev }))];
}

async function readAll(
  store: DatabaseStore,
  record: DocRecord,
  revs: readonly Rev[],
  options: OpenRevsOptions,
): Promise<OpenRevsResult[]> {
  const results: OpenRevsResult[] = [];
  for (const rev of revs) {
    try {
      const doc = await readDoc(store, record, { rev, revs: options.revs ?? false });
      results.push({ ok: doc });
    } catch {
      results.push({ missing: formatRev(rev) });
    }
  }
  return results;
}
