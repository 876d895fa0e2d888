/**
 * The size checks CouchDB makes on every submitted document before writing
 * it (`couch_doc:from_json_obj_validate`): the body against
 * `max_document_size` (413 `document_too_large`, the reason is the document
 * id) and each attachment that brings data against `max_attachment_size`
 * (413 `attachment_too_large`, the reason is the attachment name). The body
 * is measured without its special members and attachments, as CouchDB
 * measures `#doc.body`, with `core/json-size.ts`.
 *
 * Measuring walks the body, so callers pass how many bytes the submitted
 * text had: a text no longer than the limit cannot hold a body over it, and
 * the walk is skipped (the common case, and every `_bulk_docs` request
 * smaller than one document's limit).
 */
import { attachmentTooLarge, documentTooLarge } from '../core/errors.js';
import { estimateJsonBytes } from '../core/json-size.js';
import type { Limits } from '../core/limits.js';
import type { DocUpdate } from './document.js';

export function checkDocumentLimits(
  update: DocUpdate,
  limits: Pick<Limits, 'docBytesMax' | 'attachmentBytesMax'>,
  submittedBytes: number,
): void {
  if (submittedBytes > limits.docBytesMax && estimateJsonBytes(update.body, limits.docBytesMax) > limits.docBytesMax) {
    throw documentTooLarge(update.id);
  }
  for (const input of update.attachmentInputs ?? []) {
    if (input.kind === 'data' && input.meta.length > limits.attachmentBytesMax) throw attachmentTooLarge(input.meta.name);
  }
}
