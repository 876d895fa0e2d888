/**
 * Documents as CouchDB's replicator holds them in memory (`#doc{}` with
 * `#att{}`s) and the two conversions it applies to them:
 *
 * - `docFromJson` is `couch_doc:from_json_obj` (`transfer_fields`): `_rev`,
 *   then `_revisions` (which wins), `_deleted`, the ignored meta members, and
 *   `_attachments` read by `couch_att:from_json` as a stub, a `follows` (data
 *   still to come from the multipart body, `digest` and `encoding` kept) or
 *   inline `data` (base64; `digest`, `length` and `encoding` are dropped);
 * - `docToJson` is `couch_doc:to_json_obj`: `_id`, `_rev`, the body,
 *   `_deleted`, `_revisions` (with `revs`), `_attachments` (`couch_att:to_json`
 *   with the `attachments` / `follows` / `att_encoding_info` options).
 */
import { gunzipSync } from 'node:zlib';

export interface CouchRevs {
  /** Position of the first id (the newest); 0 with no ids for a new document. */
  readonly start: number;
  /** Newest first. */
  readonly ids: readonly string[];
}

export interface CouchAtt {
  readonly name: string;
  readonly type: string;
  /** `revpos`; undefined for a stub that did not say (skips CouchDB's stub check). */
  readonly revpos: number | undefined;
  /** `md5-…` digest, or undefined when not known (inline data). */
  readonly digest: string | undefined;
  /** `disk_len`: the decoded length. */
  readonly length: number;
  /** `att_len`: the length of `data` as held (encoded). */
  readonly encodedLength: number;
  readonly encoding: 'identity' | 'gzip';
  /** The bytes as held (gzip bytes for gzip), a stub, or bytes still to come from a multipart body. */
  readonly data: Buffer | 'stub' | 'follows';
}

export interface CouchDoc {
  readonly id: string;
  readonly revs: CouchRevs;
  readonly deleted: boolean;
  /** The members without the special `_` ones, in order. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly atts: readonly CouchAtt[];
}

export function revString(pos: number, id: string): string {
  return `${pos}-${id}`;
}

/** `couch_doc:parse_rev`: `N-id`, else 400 "Invalid rev format". */
export function parseRev(rev: unknown): { readonly pos: number; readonly id: string } {
  if (typeof rev !== 'string') throw new Error('bad_request: Invalid rev format');
  const dash = rev.indexOf('-');
  const pos = Number(rev.slice(0, dash));
  if (dash <= 0 || !Number.isInteger(pos)) throw new Error(`bad_request: Invalid rev format (${rev})`);
  return { pos, id: rev.slice(dash + 1) };
}

const ignoredMembers = new Set(['_revs_info', '_local_seq', '_conflicts', '_deleted_conflicts']);
const keptSpecialMembers = new Set([
  '_access',
  '_replication_state',
  '_replication_state_time',
  '_replication_state_reason',
  '_replication_id',
  '_replication_stats',
]);

/** `couch_doc:from_json_obj`; follows attachments keep `data: 'follows'` for the multipart reader to fill. */
export function docFromJson(json: unknown): CouchDoc {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('bad_request: Document must be a JSON object');
  let id = '';
  let revs: CouchRevs = { start: 0, ids: [] };
  let deleted = false;
  let atts: CouchAtt[] = [];
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '_id') id = String(value);
    else if (name === '_rev') {
      if (revs.ids.length === 0) {
        const rev = parseRev(value);
        revs = { start: rev.pos, ids: [rev.id] };
      }
    } else if (name === '_revisions') {
      const { start, ids } = value as { start: unknown; ids: unknown };
      if (!Number.isInteger(start)) throw new Error("doc_validation: _revisions.start isn't an integer.");
      if (!Array.isArray(ids)) throw new Error("doc_validation: _revisions.ids isn't a array.");
      revs = { start: start as number, ids: ids.map(String) };
    } else if (name === '_deleted' && typeof value === 'boolean') deleted = value;
    else if (name === '_attachments') {
      atts = Object.entries(value as Record<string, Record<string, unknown>>).map(([attName, props]) => attFromJson(attName, props));
    } else if (ignoredMembers.has(name)) continue;
    else if (name.startsWith('_') && !keptSpecialMembers.has(name)) throw new Error(`doc_validation: Bad special document member: ${name}`);
    else body[name] = value;
  }
  return { id, revs, deleted, body, atts };
}

/** `couch_att:from_json`: stub, follows or inline. */
function attFromJson(name: string, props: Record<string, unknown>): CouchAtt {
  const type = typeof props['content_type'] === 'string' ? props['content_type'] : 'application/octet-stream';
  const digest = typeof props['digest'] === 'string' && props['digest'].startsWith('md5-') ? props['digest'] : undefined;
  if (props['stub'] === true || props['follows'] === true) {
    // encoded_lengths_from_json
    const length = Number(props['length']);
    const encoding = props['encoding'] === undefined ? 'identity' : props['encoding'] === 'gzip' ? 'gzip' : undefined;
    if (encoding === undefined) throw new Error(`unsupported attachment encoding ${String(props['encoding'])}`);
    const encodedLength = encoding === 'identity' ? length : Number(props['encoded_length'] ?? length);
    const revpos = typeof props['revpos'] === 'number' ? props['revpos'] : props['stub'] === true ? undefined : 0;
    return { name, type, revpos, digest, length, encodedLength, encoding, data: props['stub'] === true ? 'stub' : 'follows' };
  }
  const data = Buffer.from(String(props['data']), 'base64');
  const revpos = typeof props['revpos'] === 'number' ? props['revpos'] : 0;
  return { name, type, revpos, digest: undefined, length: data.length, encodedLength: data.length, encoding: 'identity', data };
}

export interface ToJsonOptions {
  readonly revs?: boolean;
  /** Output attachment data (else every attachment is a stub). */
  readonly attachments?: boolean;
  /** Data to follow in a multipart body instead of inline base64. */
  readonly follows?: boolean;
  readonly attEncodingInfo?: boolean;
}

/** `couch_doc:to_json_obj` as JSON text (jiffy writes no spaces). */
export function docToJson(doc: CouchDoc, options: ToJsonOptions): string {
  const members: string[] = [`"_id":${JSON.stringify(doc.id)}`];
  const [first] = doc.revs.ids;
  if (first !== undefined) members.push(`"_rev":${JSON.stringify(revString(doc.revs.start, first))}`);
  for (const [name, value] of Object.entries(doc.body)) members.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  if (doc.deleted) members.push('"_deleted":true');
  if (options.revs === true && doc.revs.ids.length > 0) members.push(`"_revisions":${JSON.stringify({ start: doc.revs.start, ids: doc.revs.ids })}`);
  if (doc.atts.length > 0) {
    const atts = doc.atts.map((att) => `${JSON.stringify(att.name)}:${attToJson(att, options)}`);
    members.push(`"_attachments":{${atts.join(',')}}`);
  }
  return `{${members.join(',')}}`;
}

/** `couch_att:to_json(Att, OutputData, DataToFollow, ShowEncoding)`. */
function attToJson(att: CouchAtt, options: ToJsonOptions): string {
  const props: Record<string, unknown> = { content_type: att.type, revpos: att.revpos ?? null };
  if (att.digest !== undefined) props['digest'] = att.digest;
  if (options.attachments !== true || att.data === 'stub') {
    props['length'] = att.length;
    props['stub'] = true;
  } else if (options.follows === true) {
    props['length'] = att.length;
    props['follows'] = true;
  } else {
    if (att.data === 'follows') throw new Error(`assertion failed: the data of ${att.name} has arrived`);
    props['data'] = (att.encoding === 'gzip' ? gunzipSync(att.data) : att.data).toString('base64');
  }
  if (options.attEncodingInfo === true && att.encoding !== 'identity') {
    props['encoding'] = att.encoding;
    props['encoded_length'] = att.encodedLength;
  }
  return JSON.stringify(props);
}
