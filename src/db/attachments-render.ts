/**
 * `_attachments` as a read answers it (`couch_att:to_json`):
 * - a stub by default: `{"content_type","revpos","digest","length","stub":true}`;
 * - with data (`attachments=true`, for attachments newer than `atts_since`):
 *   `{"content_type","revpos","digest","data":<base64 of the decoded bytes>}`;
 * - `att_encoding_info=true` appends `"encoding","encoded_length"` to
 *   gzip-stored ones.
 */
import { stringifyJson } from '../core/json-write.js';
import type { Rev } from '../core/rev.js';
import { findRev } from '../core/revtree.js';
import type { DatabaseStore, DocRecord } from '../storage/engine.js';
import type { AttachmentMeta } from './attachments.js';
import { decodeMetas, decodeStoredBytes } from './attachments.js';
import type { DocRevision } from './read-doc.js';
import { renderDoc } from './render.js';

export interface AttachmentReadOptions {
  /** Inline the data (`attachments=true`). */
  readonly data?: boolean;
  /** `att_encoding_info=true`. */
  readonly encodingInfo?: boolean;
  /** Only attachments changed after the newest of these revisions (in the read revision's history) get data. */
  readonly attsSince?: readonly Rev[];
}

/** Whether the options change anything from the default stubs. */
export function wantsAttachmentDetail(options: AttachmentReadOptions): boolean {
  return options.data === true || options.encodingInfo === true || (options.attsSince !== undefined && options.attsSince.length > 0);
}

function metaHead(meta: AttachmentMeta): string {
  return `{"content_type":${stringifyJson(meta.contentType)},"revpos":${meta.revpos},"digest":${stringifyJson(meta.digest)}`;
}

function encodingTail(meta: AttachmentMeta, encodingInfo: boolean): string {
  return encodingInfo && meta.encoding !== undefined ? `,"encoding":"${meta.encoding}","encoded_length":${meta.encodedLength ?? 0}` : '';
}

export function stubJson(meta: AttachmentMeta, encodingInfo = false): string {
  return `${metaHead(meta)},"length":${meta.length},"stub":true${encodingTail(meta, encodingInfo)}}`;
}

/** The default `_attachments` (stubs) from stored metadata; `{}` for none. */
export function attachmentStubsJson(storedJson: string, encodingInfo = false): string {
  if (storedJson.length <= 2) return storedJson;
  const members = decodeMetas(storedJson).map((meta) => `${stringifyJson(meta.name)}:${stubJson(meta, encodingInfo)}`);
  return `{${members.join(',')}}`;
}

/**
 * The position below which attachments are not sent: that of the newest
 * `atts_since` revision on the read revision's path (0 when none is).
 */
export function attsSincePos(record: DocRecord | undefined, rev: string, attsSince: readonly Rev[] | undefined): number {
  if (attsSince === undefined || attsSince.length === 0 || record === undefined) return 0;
  const dash = rev.indexOf('-');
  const found = findRev(record.tree, { pos: Number(rev.slice(0, dash)), hash: rev.slice(dash + 1) });
  if (found === undefined) return 0;
  const onPath = new Set(found.path.map((hash, index) => `${found.pos - index}-${hash}`));
  let pos = 0;
  for (const candidate of attsSince) {
    if (candidate.pos > pos && onPath.has(`${candidate.pos}-${candidate.hash}`)) pos = candidate.pos;
  }
  return pos;
}

/** `_attachments` of one revision as the options ask; data is read from the store. */
export async function attachmentsJsonFor(
  store: DatabaseStore,
  docId: string,
  storedJson: string,
  options: AttachmentReadOptions & { readonly sincePos?: number },
): Promise<string> {
  if (storedJson.length <= 2) return storedJson;
  const encodingInfo = options.encodingInfo === true;
  const withData = options.data === true || (options.attsSince !== undefined && options.attsSince.length > 0);
  const sincePos = options.sincePos ?? 0;
  const members: string[] = [];
  for (const meta of decodeMetas(storedJson)) {
    let text: string;
    if (withData && meta.revpos > sincePos) {
      const stored = await store.getAttachmentData(docId, meta.digest);
      if (stored === undefined) throw new Error(`assertion failed: attachment data ${meta.digest} of ${docId} is stored`);
      const base64 = Buffer.from(decodeStoredBytes(meta, stored)).toString('base64');
      text = `${metaHead(meta)},"data":"${base64}"${encodingTail(meta, encodingInfo)}}`;
    } else {
      text = stubJson(meta, encodingInfo);
    }
    members.push(`${stringifyJson(meta.name)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * A revision's JSON text with the data of its attachments inline (those newer
 * than `attsSince`), as a replication source sends it.
 */
export async function renderDocWithAttachmentData(
  store: DatabaseStore,
  record: DocRecord | undefined,
  doc: DocRevision,
  attsSince: readonly Rev[] = [],
): Promise<string> {
  if (doc.attachmentsJson.length <= 2) return renderDoc(doc);
  const sincePos = attsSincePos(record, doc.rev, attsSince);
  return renderDoc(doc, { attachmentsJson: await attachmentsJsonFor(store, doc.id, doc.attachmentsJson, { data: true, sincePos }) });
}
