/**
 * The MVCC policy: how one submitted edit changes a document's revision tree.
 * Pure functions over the tree; the writer (`writer.ts`) applies them in order
 * inside one group commit. Mirrors CouchDB's `couch_db:prep_and_validate_update`
 * and `couch_db_updater:merge_rev_tree`.
 */
import { conflict, CouchError } from '../core/errors.js';
import type { Rev, RevTree } from '../core/rev.js';
import { computeRevHash, type AttachmentDigest } from '../core/revid.js';
import { leaves, mergePath, winner } from '../core/revtree.js';
import type { DocUpdate } from './document.js';

/** A document's tree as the writer holds it between edits of one batch. */
export interface DocState {
  readonly tree: RevTree;
}

export interface EditApplied {
  readonly ok: true;
  readonly tree: RevTree;
  /** The revision this edit created or delivered (`N-hash`). */
  readonly rev: Rev;
  /** Whether `rev` is new to the tree, so its body must be stored. */
  readonly stored: boolean;
}

export interface EditRefused {
  readonly ok: false;
  readonly error: CouchError;
}

export type EditOutcome = EditApplied | EditRefused;

/**
 * The attachments (as the revision hash wants them) of an edit built on
 * `parent` (null for a new document), or why the edit is refused (a stub the
 * parent does not have). The writer answers it from stored revision bodies.
 */
export type AttachmentsOf = (parent: Rev | null) => readonly AttachmentDigest[] | CouchError;

const noAttachments: AttachmentsOf = () => [];
const emptyTree: RevTree = [];
const hexHashPattern = /^[0-9a-f]{32}$/;

/**
 * An interactive edit (`new_edits=true`): builds a new revision on the given
 * parent (or on nothing, for a new document), refusing with 409 when the
 * parent is not a leaf or when the edit would branch a live document.
 */
export function applyInteractiveEdit(
  state: DocState | undefined,
  update: DocUpdate,
  attachmentsOf: AttachmentsOf = noAttachments,
): EditOutcome {
  const tree = state?.tree ?? emptyTree;
  if (tree.length === 0) return createNew(tree, update, attachmentsOf);
  const current = winner(tree);
  const history = update.history;
  if (current.deleted) {
    // Re-creating a deleted document: only without a parent and not as a
    // deletion; the new revision extends the winning tombstone, so the tree
    // does not sprout a new root (CouchDB's "recreate" rule).
    if (history !== null && history.pos > 0) return refuse();
    if (update.deleted) return refuse();
    const parent: Rev = { pos: current.pos, hash: current.hash };
    return extend(tree, update, parent, [current.hash], attachmentsOf);
  }
  if (history === null || history.hashes.length === 0) return refuse();
  const parentHash = history.hashes[0] as string;
  const isLeaf = leaves(tree).some((leaf) => leaf.pos === history.pos && leaf.hash === parentHash);
  if (!isLeaf) return refuse();
  return extend(tree, update, { pos: history.pos, hash: parentHash }, history.hashes, attachmentsOf);
}

function createNew(tree: RevTree, update: DocUpdate, attachmentsOf: AttachmentsOf): EditOutcome {
  const history = update.history;
  if (history === null || history.hashes.length === 0) {
    const attachments = attachmentsOf(null);
    if (attachments instanceof CouchError) return { ok: false, error: attachments };
    const hash = computeRevHash({ deleted: update.deleted, parent: null, body: update.body, attachments });
    const merged = mergePath(tree, { pos: 1, hashes: [hash], deleted: update.deleted });
    return { ok: true, tree: merged.tree, rev: { pos: 1, hash }, stored: true };
  }
  // A new document carrying a revision is accepted as if the parent existed
  // (CouchDB 3.x), but only a CouchDB-shaped one: observed on 3.4.3, a parent
  // like `1-x` is a conflict while `1-<32 hex>` is accepted.
  if (!hexHashPattern.test(history.hashes[0] as string)) return refuse();
  return extend(tree, update, { pos: history.pos, hash: history.hashes[0] as string }, history.hashes, attachmentsOf);
}

function extend(
  tree: RevTree,
  update: DocUpdate,
  parent: Rev,
  ancestry: readonly string[],
  attachmentsOf: AttachmentsOf,
): EditOutcome {
  const attachments = attachmentsOf(parent);
  if (attachments instanceof CouchError) return { ok: false, error: attachments };
  const hash = computeRevHash({ deleted: update.deleted, parent, body: update.body, attachments });
  const rev: Rev = { pos: parent.pos + 1, hash };
  const merged = mergePath(tree, { pos: rev.pos, hashes: [hash, ...ancestry], deleted: update.deleted });
  if (tree.length > 0 && merged.outcome !== 'new_leaf') return refuse();
  return { ok: true, tree: merged.tree, rev, stored: true };
}

/**
 * A replicated edit (`new_edits=false`): merges the given history as is. Never
 * a conflict; a revision already known is a no-op (its body is not replaced).
 */
export function applyReplicatedEdit(state: DocState | undefined, update: DocUpdate): EditOutcome {
  const tree = state?.tree ?? emptyTree;
  const history = update.history;
  if (history === null || history.hashes.length === 0) return refuse();
  const rev: Rev = { pos: history.pos, hash: history.hashes[0] as string };
  const merged = mergePath(tree, { pos: history.pos, hashes: history.hashes, deleted: update.deleted });
  // CouchDB drops a replicated revision it already has before merging, so a
  // known revision changes nothing (not even ancestors that stemming removed).
  if (merged.outcome === 'known') return { ok: true, tree, rev, stored: false };
  return { ok: true, tree: merged.tree, rev, stored: true };
}

function refuse(): EditRefused {
  return { ok: false, error: conflict() };
}
