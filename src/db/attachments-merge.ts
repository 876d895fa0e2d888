/**
 * Turning a submitted `_attachments` into the attachments of the new
 * revision: CouchDB's `couch_doc:merge_stubs`. A stub takes the attachment of
 * that name from the revision edited (412 `missing_stub` when it has none);
 * new data gets `revpos` = the new revision's position (a replicated write
 * keeps the position it brings). Omitting `_attachments` drops them all.
 */
import { CouchError } from '../core/errors.js';
import type { DocUpdate } from './document.js';
import type { AttachmentData, AttachmentInput, AttachmentMeta } from './attachments.js';
import { parseAttachmentInputs } from './attachments.js';

export interface MergedAttachments {
  /** The new revision's attachments, in `_attachments` order. */
  readonly metas: readonly AttachmentMeta[];
  /** Bytes the new revision brings (stubs bring none). */
  readonly data: readonly AttachmentData[];
}

export const noAttachments: MergedAttachments = Object.freeze({ metas: [], data: [] });

export function missingStub(docId: string, name: string): CouchError {
  return new CouchError(412, 'missing_stub', `Invalid attachment stub in ${docId} for ${name}`);
}

/** The parsed attachments of an update (parsed once, by `docUpdateFromJson`, when it built the update). */
export function updateAttachmentInputs(update: DocUpdate): readonly AttachmentInput[] {
  if (update.attachmentInputs !== undefined) return update.attachmentInputs;
  return update.attachments === null ? [] : parseAttachmentInputs(update.attachments);
}

export function hasStubs(inputs: readonly AttachmentInput[]): boolean {
  return inputs.some((input) => input.kind === 'stub');
}

export interface MergeOptions {
  readonly docId: string;
  /** Position of the revision being written. */
  readonly pos: number;
  /** Attachments of the revision the stubs refer to; undefined when there is none. */
  readonly previous: readonly AttachmentMeta[] | undefined;
  /** Replicated writes keep the `revpos` they bring. */
  readonly keepRevpos: boolean;
}

export function mergeAttachments(inputs: readonly AttachmentInput[], options: MergeOptions): MergedAttachments | CouchError {
  if (inputs.length === 0) return noAttachments;
  const metas: AttachmentMeta[] = [];
  const data: AttachmentData[] = [];
  for (const input of inputs) {
    if (input.kind === 'stub') {
      const kept = options.previous?.find((meta) => meta.name === input.name);
      if (kept === undefined) return missingStub(options.docId, input.name);
      metas.push(kept);
      continue;
    }
    const revpos = options.keepRevpos && input.revpos !== undefined ? input.revpos : options.pos;
    metas.push({ ...input.meta, revpos });
    if (!data.some((entry) => entry.digest === input.meta.digest)) data.push({ digest: input.meta.digest, bytes: input.bytes });
  }
  return { metas, data };
}
