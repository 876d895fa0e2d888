/**
 * The endpoint operations of CouchDB 3.4's replicator
 * (`couch_replicator_api_wrap`), over HTTP exactly as it sends them:
 *
 *   db_open / get_db_info    GET /db/                      (needs update_seq and instance_start_time;
 *                            PUT /db/ first for create_target)
 *   open_doc                 GET /db/_local/<id>           (checkpoints; no query string)
 *   update_doc               PUT /db/<id>[?new_edits=false] application/json, or multipart/related
 *                            when an attachment has data (couch_doc:doc_to_multi_part_stream)
 *   update_docs              POST /db/_bulk_docs           {"new_edits":false,"docs":[…]}
 *   ensure_full_commit       POST /db/_ensure_full_commit  (201 with instance_start_time)
 *   get_missing_revs         POST /db/_revs_diff
 *   bulk_get                 POST /db/_bulk_get?latest=true&revs=true&attachments=false
 *   open_doc_revs            GET /db/<id>?[atts_since=…&]revs=true&open_revs=[…]&latest=true,
 *                            Accept: multipart/mixed
 *   changes_since            GET /db/_changes?feed=normal|continuous&style=all_docs&since=…&timeout=10000
 *
 * Answers are read as the replicator reads them: a shape it does not match
 * (a `function_clause` or `case_clause` in Erlang) throws.
 */
import { randomBytes } from 'node:crypto';
import { couchMultipartRequest } from './couch-multipart.js';
import type { CouchDoc } from './couch-doc-json.js';
import { docFromJson, docToJson } from './couch-doc-json.js';
import type { OpenRevsItem } from './couch-multipart-reader.js';
import { readOpenRevs } from './couch-multipart-reader.js';
import type { CouchHttpDb, HttpReply } from './couch-replicator-httpc.js';
import { encodeDocId } from './couch-replicator-httpc.js';

export interface ChangeRow {
  readonly id: string;
  /** As the feed gave it (a number from Settee and CouchDB 1.x, a string from CouchDB 2+). */
  readonly seq: unknown;
  readonly revs: readonly string[];
}

export interface MissingRevs {
  readonly id: string;
  readonly missing: readonly string[];
  readonly possibleAncestors: readonly string[];
}

export interface BulkGetItem {
  readonly id: string;
  readonly rev: string;
  readonly attsSince: readonly string[];
}

export type BulkGetAnswer = CouchDoc | { readonly error: string; readonly reason: string };

export interface BulkDocsError {
  readonly id: string;
  readonly rev: string;
  readonly error: string;
  readonly reason: string;
}

/** What update_doc throws (`conflict`, `missing_stub`, `unauthorized`, `forbidden`) or returns as an error. */
export class DocWriteError extends Error {
  constructor(
    readonly error: string,
    readonly reason: string,
    readonly status: number,
  ) {
    super(`${status} ${error}: ${reason}`);
  }
}

export interface WriteOptions {
  /** `?REPLICATED_CHANGES`: `new_edits=false`. */
  readonly replicated: boolean;
  /** `delay_commit`: `X-Couch-Full-Commit: false`. */
  readonly delayCommit: boolean;
}

/** What both ends of a replication answer (db_open, info, checkpoints). */
export interface CheckpointEndpoint {
  readonly name: string;
  /** db_open; with `create` (the target of `create_target`), a PUT of the database first. */
  open(create?: boolean): Promise<void>;
  info(): Promise<Record<string, unknown>>;
  /** A document (the replicator opens only `_local` ones), or the `error` of the reply. */
  openDoc(id: string): Promise<CouchDoc | { readonly error: unknown }>;
  /** The new revision; throws DocWriteError. */
  updateDoc(doc: CouchDoc, options: WriteOptions): Promise<string>;
  /** instance_start_time. */
  ensureFullCommit(): Promise<string>;
}

export interface ChangesOptions {
  /** `feed=continuous` (else `feed=normal`). */
  readonly continuous: boolean;
  /** The `timeout` parameter: max(1000, connection_timeout div 3). */
  readonly timeoutMs: number;
  readonly onRow: (row: ChangeRow) => void;
  /** The `last_seq` line of a continuous feed (a normal feed's is ignored, as CouchDB does). */
  readonly onLastSeq: (seq: unknown) => void;
  readonly signal?: AbortSignal;
}

export interface SourceEndpoint extends CheckpointEndpoint {
  /** One changes request, rows handed over as they arrive. */
  changesSince(since: unknown, options: ChangesOptions): Promise<void>;
  /** undefined when `_bulk_get` failed (the worker then opens each revision). */
  bulkGet(items: readonly BulkGetItem[]): Promise<Map<string, BulkGetAnswer> | undefined>;
  openDocRevs(id: string, revs: readonly string[], options: { readonly attsSince: readonly string[] }): Promise<OpenRevsItem[]>;
}

export interface TargetEndpoint extends CheckpointEndpoint {
  getMissingRevs(idRevs: readonly (readonly [string, readonly string[]])[]): Promise<MissingRevs[]>;
  /** The errors; throws on a failed request (413 as `request_body_too_large`). */
  updateDocs(jsonDocs: readonly string[], options: WriteOptions): Promise<BulkDocsError[]>;
}

export function bulkGetKey(id: string, rev: string): string {
  return `${id}\u0000${rev}`;
}

/** couch_replicator_utils:seq_encode: a string as is, anything else as JSON. */
export function seqEncode(seq: unknown): string {
  return typeof seq === 'string' ? seq : JSON.stringify(seq);
}

/** `MAX_URL_LEN`: atts_since is cut so that the request line stays below it. */
const urlLengthMax = 7000;

function object(reply: HttpReply, what: string): Record<string, unknown> {
  const value = reply.json();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`function_clause: ${what} answered ${reply.body}`);
  return value as Record<string, unknown>;
}

export class HttpCouchEndpoint implements SourceEndpoint, TargetEndpoint {
  readonly name: string;

  constructor(readonly http: CouchHttpDb) {
    this.name = http.name;
  }

  async open(create = false): Promise<void> {
    await this.http.setup();
    if (create) {
      // any answer but 401/403 is fine: 412 file_exists included
      const created = await this.http.send({ method: 'PUT' });
      if (created.status === 401) throw new Error(`unauthorized: ${this.http.url}`);
      if (created.status === 403) throw new Error(`forbidden: ${this.http.url}`);
    }
    const reply = await this.http.send({});
    if (reply.status === 401) throw new Error(`unauthorized: ${this.http.url}`);
    if (reply.status === 403) throw new Error(`forbidden: ${this.http.url}`);
    const props = reply.status === 200 ? reply.json() : undefined;
    if (typeof props !== 'object' || props === null) throw new Error(`db_not_found: ${this.http.url}`);
    const info = props as Record<string, unknown>;
    if (info['update_seq'] === undefined || info['instance_start_time'] === undefined) throw new Error(`db_not_found: ${this.http.url}`);
  }

  async info(): Promise<Record<string, unknown>> {
    const reply = await this.http.send({});
    if (reply.status !== 200) throw new Error(`function_clause: GET ${this.http.url} answered ${reply.status}`);
    return object(reply, 'get_db_info');
  }

  async openDoc(id: string): Promise<CouchDoc | { readonly error: unknown }> {
    const reply = await this.http.send({ path: encodeDocId(id) });
    if (reply.status === 200) return docFromJson(reply.json());
    return { error: object(reply, 'open_doc')['error'] };
  }

  async updateDoc(doc: CouchDoc, options: WriteOptions): Promise<string> {
    const boundary = randomBytes(16).toString('hex');
    const json = docToJson(doc, { revs: true, attachments: true, follows: true, attEncodingInfo: true });
    const following = doc.atts.filter((att) => att.data !== 'stub');
    const framed =
      following.length === 0
        ? { body: Buffer.from(json, 'utf8'), headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(json)) } }
        : couchMultipartRequest(
            boundary,
            json,
            following.map((att) => {
              if (!Buffer.isBuffer(att.data)) throw new Error(`assertion failed: the data of ${att.name} has arrived`);
              const encoding = att.encoding === 'gzip' ? { encoding: 'gzip' as const } : {};
              return { name: att.name, contentType: att.type, bytes: att.data, ...encoding };
            }),
          );
    const reply = await this.http.send({
      method: 'PUT',
      path: encodeDocId(doc.id),
      qs: options.replicated ? [['new_edits', 'false']] : [],
      headers: { ...(options.delayCommit ? { 'X-Couch-Full-Commit': 'false' } : {}), ...framed.headers },
      body: framed.body,
      retries: 0,
    });
    if (reply.status === 200 || reply.status === 201 || reply.status === 202) return String(object(reply, 'update_doc')['rev']);
    if (reply.status === 409) throw new DocWriteError('conflict', '', 409);
    const props = object(reply, 'update_doc');
    throw new DocWriteError(String(props['error']), String(props['reason']), reply.status);
  }

  async updateDocs(jsonDocs: readonly string[], options: WriteOptions): Promise<BulkDocsError[]> {
    const prefix = options.replicated ? '{"new_edits":false,"docs":[' : '{"docs":[';
    const body = `${prefix}${jsonDocs.join(',')}]}`;
    const reply = await this.http.send({
      method: 'POST',
      path: '_bulk_docs',
      headers: {
        'Content-Length': String(Buffer.byteLength(body)),
        'Content-Type': 'application/json',
        'X-Couch-Full-Commit': String(!options.delayCommit),
      },
      body,
    });
    if (reply.status === 413) throw new DocWriteError('request_body_too_large', '', 413);
    const results = reply.json();
    if ((reply.status !== 201 && reply.status !== 417) || !Array.isArray(results)) {
      throw new Error(`bulk_docs_failed: ${reply.status} ${reply.body}`);
    }
    return (results as Record<string, unknown>[])
      .filter((result) => result['error'] !== undefined)
      .map((result) => ({ id: String(result['id']), rev: String(result['rev']), error: String(result['error']), reason: String(result['reason']) }));
  }

  async ensureFullCommit(): Promise<string> {
    const reply = await this.http.send({ method: 'POST', path: '_ensure_full_commit', headers: { 'Content-Type': 'application/json' } });
    const props = object(reply, 'ensure_full_commit');
    if (reply.status !== 201) throw new Error(`ensure_full_commit: ${String(props['error'])}`);
    return String(props['instance_start_time']);
  }

  async getMissingRevs(idRevs: readonly (readonly [string, readonly string[]])[]): Promise<MissingRevs[]> {
    const body = JSON.stringify(Object.fromEntries(idRevs.map(([id, revs]) => [id, revs])));
    const reply = await this.http.send({ method: 'POST', path: '_revs_diff', body, headers: { 'Content-Type': 'application/json' } });
    if (reply.status !== 200) throw new Error(`revs_diff_failed: ${reply.status} ${reply.body}`);
    return Object.entries(object(reply, '_revs_diff')).map(([id, result]) => {
      const entry = result as { missing: string[]; possible_ancestors?: string[] };
      return { id, missing: entry.missing, possibleAncestors: entry.possible_ancestors ?? [] };
    });
  }

  async bulkGet(items: readonly BulkGetItem[]): Promise<Map<string, BulkGetAnswer> | undefined> {
    // a jiffy-encoded map: keys in term order
    const docs = items.map((item) => ({ atts_since: item.attsSince, id: item.id, rev: item.rev }));
    const body = JSON.stringify({ attachments: false, docs, latest: true, revs: true });
    const reply = await this.http.send({
      method: 'POST',
      path: '_bulk_get',
      qs: [['latest', 'true'], ['revs', 'true'], ['attachments', 'false']],
      body,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    });
    if (reply.status !== 200) return undefined;
    const answer = reply.json() as Record<string, unknown>;
    const results = answer['results'];
    if (Object.keys(answer).length !== 1 || !Array.isArray(results)) return undefined;
    if (results.length !== items.length) throw new Error(`function_clause: lists:zipwith of ${items.length} requests and ${results.length} results`);
    return new Map(items.map((item, index) => [bulkGetKey(item.id, item.rev), bulkGetZip(item, results[index])]));
  }

  async openDocRevs(id: string, revs: readonly string[], options: { readonly attsSince: readonly string[] }): Promise<OpenRevsItem[]> {
    const path = encodeDocId(id);
    const base: [string, string][] = [['revs', 'true'], ['open_revs', JSON.stringify(revs)], ['latest', 'true']];
    const attsSince = (): [string, string] => ['atts_since', JSON.stringify(this.#attsSinceFitting(path, base, options.attsSince))];
    const qs = options.attsSince.length === 0 ? base : [attsSince(), ...base];
    const reply = await this.http.send({ path, qs, headers: { Accept: 'multipart/mixed' }, retries: 0 });
    if (reply.status !== 200) throw new Error(`open_doc_revs: GET ${path} answered ${reply.status} ${reply.body}`);
    return readOpenRevs(String(reply.headers['content-type']), reply.body);
  }

  /** atts_since_arg: as many possible ancestors as keep the request line under `MAX_URL_LEN`. */
  #attsSinceFitting(path: string, qs: [string, string][], attsSince: readonly string[]): string[] {
    let length = `GET ${this.http.fullUrl({ path, qs }).href} HTTP/1.1\r\n`.length + '&atts_since='.length + 6;
    const kept: string[] = [];
    attsSince.forEach((rev, index) => {
      length += rev.length + (index === attsSince.length - 1 ? 6 : 9);
      if (length < urlLengthMax && kept.length === index) kept.push(rev);
    });
    return kept;
  }

  async changesSince(since: unknown, options: ChangesOptions): Promise<void> {
    const qs: [string, string][] = [
      ['feed', options.continuous ? 'continuous' : 'normal'],
      ['style', 'all_docs'],
      ['since', seqEncode(since)],
      ['timeout', String(options.timeoutMs)],
    ];
    let pending = '';
    const onData = (chunk: Buffer) => {
      if (!options.continuous) {
        pending += chunk.toString('latin1');
        return;
      }
      // one JSON object a line; empty lines are heartbeats
      pending += chunk.toString('latin1');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = Buffer.from(pending.slice(0, newline), 'latin1').toString('utf8').trim();
        pending = pending.slice(newline + 1);
        if (line.length > 0) changeLine(JSON.parse(line) as Record<string, unknown>, options);
        newline = pending.indexOf('\n');
      }
    };
    const signal = options.signal;
    // no retries here: the changes reader restarts from its last sequence itself
    const reply = await this.http.send({ path: '_changes', qs, onData, retries: 0, noTimeout: true, ...(signal !== undefined ? { signal } : {}) });
    if (reply.status !== 200) throw new Error(`changes_req_failed: ${reply.status} ${pending}`);
    if (options.continuous) return;
    const results = (JSON.parse(Buffer.from(pending, 'latin1').toString('utf8')) as Record<string, unknown>)['results'];
    if (!Array.isArray(results)) throw new Error('_changes without results');
    for (const row of results as Record<string, unknown>[]) options.onRow(docInfoOf(row));
  }
}

/** A line of a continuous feed: a change, or `last_seq`. */
function changeLine(line: Record<string, unknown>, options: ChangesOptions): void {
  if (line['changes'] === undefined) options.onLastSeq(line['last_seq']);
  else options.onRow(docInfoOf(line));
}

/** json_to_doc_info; a `removed` row drops its first revision. */
function docInfoOf(row: Record<string, unknown>): ChangeRow {
  const changes = (row['changes'] as { rev: string }[]).map((change) => change.rev);
  return { id: String(row['id']), seq: row['seq'], revs: row['removed'] === true ? changes.slice(1) : changes };
}

/** bulk_get_zip: `{"id","docs":[{"ok":Doc}]}` or `[{"error":{…}}]`, for the id asked. */
function bulkGetZip(item: BulkGetItem, result: unknown): BulkGetAnswer {
  const props = result as { id?: unknown; docs?: unknown };
  const docs = props.docs;
  if (props.id === item.id && Array.isArray(docs) && docs.length === 1) {
    const only = docs[0] as Record<string, unknown>;
    const keys = Object.keys(only);
    const value = only[keys[0] ?? ''];
    if (keys.length === 1 && keys[0] === 'ok' && typeof value === 'object' && value !== null && Object.keys(value).length > 0) {
      return docFromJson(value);
    }
    if (keys.length === 1 && keys[0] === 'error' && typeof value === 'object' && value !== null) {
      const error = value as Record<string, unknown>;
      return { error: String(error['error']), reason: String(error['reason']) };
    }
  }
  return { error: 'unexpected_bulk_get_response', reason: JSON.stringify(result) };
}
