/**
 * An endpoint over any CouchDB-protocol database URL (Settee, CouchDB,
 * PouchDB Server): the replication subset of the HTTP API, as CouchDB's own
 * replicator calls it (couch_replicator_api_wrap).
 */
import { CouchError, isCouchError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import type {
  ChangeRow,
  ChangesBatch,
  ChangesRequest,
  DocRevisionRequest,
  Endpoint,
  EndpointIdentity,
  EndpointInfo,
  FetchedRevision,
  RevsDiffEntry,
  Seq,
  WriteFailure,
} from './endpoint.js';
import { BulkGetUnsupportedError, jsonTextOf } from './endpoint.js';
import type { HttpClientOptions } from './http-client.js';
import { HttpClient } from './http-client.js';

export type HttpEndpointOptions = HttpClientOptions;

export class HttpEndpoint implements Endpoint {
  readonly identity: EndpointIdentity;
  readonly displayName: string;
  private readonly client: HttpClient;

  constructor(options: HttpEndpointOptions) {
    this.client = new HttpClient(options);
    this.displayName = this.client.url;
    const headers = Object.entries(options.headers ?? {}).map(([name, value]) => [name, value] as const);
    this.identity = {
      url: this.client.url,
      headers,
      ...(this.client.user !== undefined ? { user: this.client.user } : {}),
    };
  }

  async info(): Promise<EndpointInfo> {
    const body = object((await this.client.request({ method: 'GET', path: '' })).json);
    return {
      dbName: typeof body['db_name'] === 'string' ? body['db_name'] : '',
      updateSeq: body['update_seq'] ?? 0,
      instanceStartTime: typeof body['instance_start_time'] === 'string' ? body['instance_start_time'] : '0',
    };
  }

  async createIfMissing(): Promise<boolean> {
    try {
      await this.client.request({ method: 'PUT', path: '' });
      return true;
    } catch (error) {
      if (isCouchError(error) && error.status === 412) return false;
      throw error;
    }
  }

  async getLocal(id: string): Promise<JsonObject | undefined> {
    try {
      return object((await this.client.request({ method: 'GET', path: `_local/${encodeURIComponent(id)}` })).json);
    } catch (error) {
      if (isCouchError(error) && error.status === 404) return undefined;
      throw error;
    }
  }

  async putLocal(id: string, doc: JsonObject): Promise<string> {
    const answer = await this.client.request({ method: 'PUT', path: `_local/${encodeURIComponent(id)}`, body: stringifyJson(doc) });
    const rev = object(answer.json)['rev'];
    return typeof rev === 'string' ? rev : '0-1';
  }

  async changes(request: ChangesRequest): Promise<ChangesBatch> {
    const query: Record<string, string> = {
      style: request.style ?? 'all_docs',
      since: typeof request.since === 'string' ? request.since : stringifyJson(request.since),
      limit: String(request.limit),
      feed: request.longpoll === true ? 'longpoll' : 'normal',
    };
    if (request.longpoll === true && request.timeoutMs !== undefined) query['timeout'] = String(request.timeoutMs);
    let body: string | undefined;
    if (request.docIds !== undefined) {
      query['filter'] = '_doc_ids';
      body = stringifyJson({ doc_ids: [...request.docIds] });
    } else if (request.selector !== undefined) {
      query['filter'] = '_selector';
      body = stringifyJson({ selector: request.selector });
    }
    const answer = await this.client.request({
      method: body === undefined ? 'GET' : 'POST',
      path: '_changes',
      query,
      ...(body !== undefined ? { body } : {}),
      ...(request.longpoll === true ? { waitMs: request.timeoutMs ?? 0 } : {}),
      ...(request.signal !== undefined ? { signal: request.signal } : {}),
    });
    const json = object(answer.json);
    const results = Array.isArray(json['results']) ? json['results'] : [];
    const rows: ChangeRow[] = results.map((value) => {
      const row = object(value);
      const changes = Array.isArray(row['changes']) ? row['changes'] : [];
      return {
        seq: row['seq'] ?? null,
        id: String(row['id']),
        changes: changes.map((change) => ({ rev: String(object(change)['rev']) })),
        deleted: row['deleted'] === true,
      };
    });
    const lastSeq = json['last_seq'] ?? rows[rows.length - 1]?.seq ?? request.since;
    return { rows, lastSeq };
  }

  async revsDiff(request: ReadonlyMap<string, readonly string[]>): Promise<Map<string, RevsDiffEntry>> {
    // Written as text: no object with hundreds of keys (nor an id like `__proto__` treated as one).
    const members: string[] = [];
    for (const [id, revs] of request) members.push(`${stringifyJson(id)}:${stringifyJson([...revs])}`);
    const body = `{${members.join(',')}}`;
    const answer = object((await this.client.request({ method: 'POST', path: '_revs_diff', body })).json);
    const result = new Map<string, RevsDiffEntry>();
    for (const id of Object.keys(answer)) {
      const entry = object(answer[id]);
      result.set(id, { missing: strings(entry['missing']), possibleAncestors: strings(entry['possible_ancestors']) });
    }
    return result;
  }

  async bulkGet(requests: readonly DocRevisionRequest[]): Promise<FetchedRevision[]> {
    const docs = requests.map((request) => {
      const entry: JsonObject = { id: request.id, rev: request.rev };
      if (request.attsSince !== undefined && request.attsSince.length > 0) entry['atts_since'] = [...request.attsSince];
      return entry;
    });
    let answer;
    try {
      answer = await this.client.request({
        method: 'POST',
        path: '_bulk_get',
        query: { revs: 'true', latest: 'true', attachments: 'true' },
        body: stringifyJson({ docs }),
      });
    } catch (error) {
      // Peers without _bulk_get answer 404/405 (or 400 for an illegal doc id).
      if (isCouchError(error) && [400, 404, 405, 501].includes(error.status)) throw new BulkGetUnsupportedError();
      throw error;
    }
    const results = object(answer.json)['results'];
    if (!Array.isArray(results)) throw new CouchError(502, 'bad_response', '_bulk_get answered without results');
    const fetched: FetchedRevision[] = [];
    for (const value of results) {
      const result = object(value);
      const id = String(result['id']);
      for (const entry of Array.isArray(result['docs']) ? result['docs'] : []) fetched.push(revisionOf(id, object(entry), ''));
    }
    return fetched;
  }

  async openRevs(id: string, revs: readonly string[], attsSince: readonly string[] = []): Promise<FetchedRevision[]> {
    const query: Record<string, string> = {
      open_revs: stringifyJson([...revs]),
      revs: 'true',
      latest: 'true',
      attachments: 'true',
    };
    if (attsSince.length > 0) query['atts_since'] = stringifyJson([...attsSince]);
    const answer = await this.client.request({ method: 'GET', path: encodeDocId(id), query });
    const entries = Array.isArray(answer.json) ? answer.json : [];
    return entries.map((entry) => revisionOf(id, object(entry), ''));
  }

  async bulkDocs(docs: readonly JsonObject[]): Promise<WriteFailure[]> {
    if (docs.length === 0) return [];
    const answer = await this.client.request({
      method: 'POST',
      path: '_bulk_docs',
      body: `{"docs":[${docs.map(jsonTextOf).join(',')}],"new_edits":false}`,
    });
    const results = Array.isArray(answer.json) ? answer.json : [];
    const failures: WriteFailure[] = [];
    for (const value of results) {
      const result = object(value);
      if (typeof result['error'] !== 'string') continue;
      const rev = result['rev'];
      failures.push({
        id: String(result['id']),
        ...(typeof rev === 'string' ? { rev } : {}),
        error: result['error'],
        reason: typeof result['reason'] === 'string' ? result['reason'] : '',
      });
    }
    return failures;
  }

  async pendingCount(since: Seq): Promise<number | null> {
    const answer = await this.client.request({
      method: 'GET',
      path: '_changes',
      query: { since: typeof since === 'string' ? since : stringifyJson(since), limit: '0' },
    });
    const pending = object(answer.json)['pending'];
    return typeof pending === 'number' ? pending : null;
  }

  async ensureFullCommit(): Promise<string> {
    const answer = object((await this.client.request({ method: 'POST', path: '_ensure_full_commit', body: '{}' })).json);
    const time = answer['instance_start_time'];
    return typeof time === 'string' ? time : '0';
  }

  async close(): Promise<void> {
    // fetch's pooled connections close when idle.
  }
}

/** One entry of `_bulk_get` (`{ok}` / `{error}`) or `open_revs` (`{ok}` / `{missing}`). */
function revisionOf(id: string, entry: JsonObject, fallbackRev: string): FetchedRevision {
  const ok = entry['ok'];
  if (isJsonObject(ok)) return { ok: true, doc: ok };
  if (typeof entry['missing'] === 'string') return { ok: false, id, rev: entry['missing'], error: 'not_found', reason: 'missing' };
  const error = object(entry['error']);
  return {
    ok: false,
    id: typeof error['id'] === 'string' ? error['id'] : id,
    rev: typeof error['rev'] === 'string' ? error['rev'] : fallbackRev,
    error: typeof error['error'] === 'string' ? error['error'] : 'unknown_error',
    reason: typeof error['reason'] === 'string' ? error['reason'] : '',
  };
}

/** A document path: `_design/` and `_local/` keep their slash, as CouchDB's replicator sends them. */
function encodeDocId(id: string): string {
  for (const prefix of ['_design/', '_local/']) {
    if (id.startsWith(prefix)) return prefix + encodeURIComponent(id.slice(prefix.length));
  }
  return encodeURIComponent(id);
}

function object(value: JsonValue | undefined): JsonObject {
  return isJsonObject(value) ? value : {};
}

function strings(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
