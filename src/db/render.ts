/**
 * JSON text of documents as CouchDB returns them: `_id`, `_rev`, the body,
 * `_deleted`, `_revisions`, the meta members, `_attachments`. The stored body
 * text is spliced in as is, never parsed and re-serialised.
 */
import { stringifyJson } from '../core/json-write.js';
import type { DocRevision } from './read-doc.js';
import { attachmentStubsJson } from './attachments-render.js';

export interface RenderOptions {
  /** `_attachments` as the read asked for them (attachments-render.ts); stubs by default. */
  readonly attachmentsJson?: string;
}

export function renderDoc(doc: DocRevision, options: RenderOptions = {}): string {
  let text = `{"_id":${stringifyJson(doc.id)},"_rev":${stringifyJson(doc.rev)}`;
  const inner = innerMembers(doc.bodyJson);
  if (inner.length > 0) text += `,${inner}`;
  if (doc.deleted) text += ',"_deleted":true';
  if (doc.revisions !== undefined) text += `,"_revisions":${JSON.stringify(doc.revisions)}`;
  if (doc.revsInfo !== undefined) text += `,"_revs_info":${JSON.stringify(doc.revsInfo)}`;
  if (doc.conflicts !== undefined) text += `,"_conflicts":${JSON.stringify(doc.conflicts)}`;
  if (doc.deletedConflicts !== undefined) text += `,"_deleted_conflicts":${JSON.stringify(doc.deletedConflicts)}`;
  if (doc.localSeq !== undefined) text += `,"_local_seq":${doc.localSeq}`;
  const attachments = options.attachmentsJson ?? attachmentStubsJson(doc.attachmentsJson);
  if (attachments.length > 2) text += `,"_attachments":${attachments}`;
  return `${text}}`;
}

/** The members of an object's JSON text, without the braces. */
export function innerMembers(objectJson: string): string {
  return objectJson.length <= 2 ? '' : objectJson.slice(1, -1);
}
