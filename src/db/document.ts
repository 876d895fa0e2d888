/**
 * A document as submitted for writing: CouchDB's `couch_doc:from_json_obj`.
 *
 * The special top-level members are taken out of the body: `_id`, `_rev` and
 * `_revisions` (the revision history the edit builds on), `_deleted`,
 * `_attachments`; `_revs_info`, `_conflicts`, `_deleted_conflicts` and
 * `_local_seq` are dropped; `_access` and the replicator's `_replication_*`
 * members stay in the body (and so in the revision hash); any other `_` member
 * is a 400 `doc_validation` error. Members are processed in document order, so
 * the first bad one names the error, as in CouchDB.
 */
import { badRequest, docValidation } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { isNativeParsed } from '../core/json-parse.js';
import { parseRev } from '../core/rev.js';
import { filterJsonObject, orderedKeys } from '../core/json-order.js';
import { validateDocId } from './names.js';
import { parseAttachmentInputs, type AttachmentInput } from './attachments.js';

/** The history a submitted revision builds on: newest first, `pos` of the newest. */
export interface RevHistory {
  readonly pos: number;
  readonly hashes: readonly string[];
}

export interface DocUpdate {
  readonly id: string;
  /** `_rev` (one hash) or `_revisions` (a whole history); null for none. */
  readonly history: RevHistory | null;
  readonly deleted: boolean;
  /** The body without special members. */
  readonly body: JsonObject;
  /** The raw `_attachments` object (handled by the attachments layer), or null. */
  readonly attachments: JsonObject | null;
  /**
   * `attachments` parsed and encoded (attachments.ts), when the update was
   * built from JSON or by an attachment endpoint; the writer parses
   * `attachments` itself when this is absent.
   */
  readonly attachmentInputs?: readonly AttachmentInput[];
  /**
   * The body holds plain JSON only (it came from `parseJson`'s native path,
   * see `isNativeParsed`), so the writer may serialise it with
   * `stringifyPlainJson`.
   */
  readonly plainBody?: boolean;
}

const droppedMembers = new Set(['_revs_info', '_conflicts', '_deleted_conflicts', '_local_seq']);
const keptMembers = new Set([
  '_access',
  '_replication_state',
  '_replication_state_time',
  '_replication_state_reason',
  '_replication_id',
  '_replication_stats',
]);

export interface DocUpdateOptions {
  /** The id from the URL: wins over `_id` in the body (which is still validated). */
  readonly id?: string;
  /** Makes an id for a document that has none (POST, `_bulk_docs`). */
  readonly newId?: () => string;
  /**
   * The value is part of a value `parseJson` read on its native path (e.g. a
   * document inside a `_bulk_docs` body); a value that is itself the root of
   * one is recognised without it.
   */
  readonly nativeParsed?: boolean;
  /**
   * The attachment parts of a `multipart/related` body, in order, for the
   * `"follows":true` members of `_attachments` (`parseAttachmentInputs`).
   */
  readonly followed?: readonly Uint8Array[];
}

/** Splits a submitted JSON document into a `DocUpdate`, validating as CouchDB does. */
export function docUpdateFromJson(value: JsonValue, options: DocUpdateOptions = {}): DocUpdate {
  if (!isJsonObject(value)) throw badRequest('Document must be a JSON object');
  let id: string | undefined;
  let revFromRev: RevHistory | null = null;
  let revFromRevisions: RevHistory | null = null;
  let deleted = false;
  let attachments: JsonObject | null = null;
  for (const key of orderedKeys(value)) {
    const member = value[key] as JsonValue;
    if (key.charCodeAt(0) !== 0x5f || keptMembers.has(key)) continue;
    switch (key) {
      case '_id':
        validateDocId(member);
        id = member;
        break;
      case '_rev':
        if (revFromRevisions === null) {
          const rev = parseRev(member);
          revFromRev = { pos: rev.pos, hashes: [rev.hash] };
        }
        break;
      case '_revisions':
        revFromRevisions = parseRevisions(member);
        break;
      case '_deleted':
        if (typeof member !== 'boolean') throw docValidation('Bad special document member: _deleted');
        deleted = member;
        break;
      case '_attachments':
        if (!isJsonObject(member)) throw docValidation('Bad special document member: _attachments');
        attachments = member;
        break;
      default:
        if (!droppedMembers.has(key)) throw docValidation(`Bad special document member: ${key}`);
    }
  }
  const body = filterJsonObject(value, (key) => key.charCodeAt(0) !== 0x5f || keptMembers.has(key));
  const finalId = options.id ?? id ?? options.newId?.();
  if (finalId === undefined) throw badRequest('Document id missing');
  const history = revFromRevisions ?? revFromRev;
  const plainBody = options.nativeParsed === true || isNativeParsed(value);
  if (attachments === null) return { id: finalId, history, deleted, body, attachments, plainBody };
  // Decoded and compressed here, before the write queue, as CouchDB's from_json_obj does.
  const attachmentInputs = parseAttachmentInputs(attachments, { followed: options.followed });
  return { id: finalId, history, deleted, body, attachments, plainBody, attachmentInputs };
}

function parseRevisions(value: JsonValue): RevHistory {
  if (!isJsonObject(value)) throw docValidation('Bad special document member: _revisions');
  const start = value['start'];
  const ids = value['ids'];
  if (typeof start !== 'number' || !Number.isInteger(start)) {
    throw docValidation("_revisions.start isn't an integer.");
  }
  if (!Array.isArray(ids)) throw docValidation("_revisions.ids isn't a array.");
  const hashes = ids.map((hash) => {
    if (typeof hash !== 'string') throw docValidation("RevId isn't a string");
    if (hash.length === 32 && start !== 0) {
      if (!/^[0-9a-fA-F]{32}$/.test(hash)) throw docValidation("RevId isn't a valid hexadecimal");
      return hash.toLowerCase();
    }
    return hash;
  });
  return { pos: start, hashes };
}
