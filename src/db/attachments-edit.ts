/**
 * The writer's view of attachments during one group commit: the revision
 * bodies that stubs may refer to (read before the batch is applied, since
 * applying is synchronous), and the merge of each edit's `_attachments` with
 * the revision it builds on.
 *
 * An interactive edit's stubs refer to its parent; a replicated edit's to the
 * nearest ancestor in its `_revisions` whose body is stored (CouchDB's
 * `prep_and_validate_replicated_updates`). Bodies written earlier in the same
 * batch count too.
 */
import { CouchError } from '../core/errors.js';
import type { Rev } from '../core/rev.js';
import type { AttachmentDigest } from '../core/revid.js';
import type { DatabaseStore, RevisionBody } from '../storage/engine.js';
import type { AttachmentInput, AttachmentMeta } from './attachments.js';
import { decodeMetas, revHashDigests } from './attachments.js';
import { hasStubs, mergeAttachments, noAttachments, type MergedAttachments } from './attachments-merge.js';
import type { DocUpdate } from './document.js';
import type { AttachmentsOf } from './edit.js';

export interface PendingEdit {
  readonly update: DocUpdate;
  readonly inputs: readonly AttachmentInput[];
}

/** The candidate revisions a stub may refer to: every revision the update names. */
function namedRevs(update: DocUpdate): string[] {
  const history = update.history;
  if (history === null) return [];
  return history.hashes.map((hash, index) => `${history.pos - index}-${hash}`);
}

export class BatchAttachments {
  private readonly stored: ReadonlyMap<string, ReadonlyMap<string, RevisionBody>>;

  private constructor(stored: ReadonlyMap<string, ReadonlyMap<string, RevisionBody>>) {
    this.stored = stored;
  }

  /**
   * Reads the bodies the batch's stubs may refer to: for each document with
   * stubs, the revisions its updates name and its winning revision (which a
   * re-creation builds on).
   */
  static async load(
    store: DatabaseStore,
    edits: readonly PendingEdit[],
    winningRevs: ReadonlyMap<string, string>,
  ): Promise<BatchAttachments> {
    const wanted = new Map<string, Set<string>>();
    for (const edit of edits) {
      if (!hasStubs(edit.inputs)) continue;
      const id = edit.update.id;
      const revs = wanted.get(id) ?? new Set<string>();
      for (const rev of namedRevs(edit.update)) revs.add(rev);
      const winning = winningRevs.get(id);
      if (winning !== undefined) revs.add(winning);
      wanted.set(id, revs);
    }
    const stored = new Map<string, ReadonlyMap<string, RevisionBody>>();
    for (const [id, revs] of wanted) stored.set(id, await store.getBodies(id, [...revs]));
    return new BatchAttachments(stored);
  }

  static empty(): BatchAttachments {
    return new BatchAttachments(new Map());
  }

  /** The attachments of one revision, from this batch's bodies or the stored ones. */
  private metasOf(id: string, rev: string, pending: readonly RevisionBody[]): AttachmentMeta[] | undefined {
    const body = pending.find((candidate) => candidate.rev === rev) ?? this.stored.get(id)?.get(rev);
    return body === undefined ? undefined : decodeMetas(body.attachmentsJson);
  }

  /**
   * For an interactive edit: the `AttachmentsOf` the MVCC policy calls with
   * the parent it chose, and the merged attachments of its last call.
   */
  interactive(edit: PendingEdit, pending: readonly RevisionBody[]): { attachmentsOf: AttachmentsOf; merged(): MergedAttachments } {
    let merged: MergedAttachments = noAttachments;
    const attachmentsOf = (parent: Rev | null): readonly AttachmentDigest[] | CouchError => {
      if (edit.inputs.length === 0) return [];
      const previous = parent === null ? undefined : this.metasOf(edit.update.id, `${parent.pos}-${parent.hash}`, pending);
      const result = mergeAttachments(edit.inputs, {
        docId: edit.update.id,
        pos: parent === null ? 1 : parent.pos + 1,
        previous,
        keepRevpos: false,
      });
      if (result instanceof CouchError) return result;
      merged = result;
      return revHashDigests(result.metas);
    };
    return { attachmentsOf, merged: () => merged };
  }

  /** For a replicated edit of revision `rev`: stubs refer to the nearest stored ancestor. */
  replicated(edit: PendingEdit, rev: Rev, pending: readonly RevisionBody[]): MergedAttachments | CouchError {
    if (edit.inputs.length === 0) return noAttachments;
    let previous: AttachmentMeta[] | undefined;
    if (hasStubs(edit.inputs)) {
      for (const ancestor of namedRevs(edit.update).slice(1)) {
        previous = this.metasOf(edit.update.id, ancestor, pending);
        if (previous !== undefined) break;
      }
    }
    return mergeAttachments(edit.inputs, { docId: edit.update.id, pos: rev.pos, previous, keepRevpos: true });
  }
}
