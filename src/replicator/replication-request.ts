/**
 * A replication request — the body of `POST /_replicate` or a `_replicator`
 * document — parsed the way CouchDB 3.x parses it
 * (couch_replicator_parse:parse_rep_doc plus chttpd's rewriting of local
 * names), with CouchDB's error texts. Pure: no I/O; endpoints are only
 * described here and built by `endpoints.ts`.
 *
 * Source and target are a database name of this server (`"db"`, also a bare
 * number, as CouchDB turns anything that is not an `http(s)://` URL into a
 * local URL), a URL string, or `{"url", "headers", "auth": {"basic":
 * {"username", "password"}}}`.
 */
import { badRequest, CouchError, notImplemented } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import { stringifyJson } from '../core/json-write.js';
import type { BasicAuth } from './http-client.js';
import type { ReplicationOptions } from './options.js';

export type EndpointSpec =
  | { readonly kind: 'local'; readonly name: string }
  | {
      readonly kind: 'remote';
      /** As given (may carry user info). */
      readonly url: string;
      /** Extra headers, sorted by name as CouchDB keeps them; a Basic `Authorization` moved to `auth`. */
      readonly headers: readonly (readonly [string, string])[];
      readonly auth?: BasicAuth;
    };

export interface ReplicationRequest {
  readonly source: EndpointSpec;
  readonly target: EndpointSpec;
  readonly options: ReplicationOptions;
  /** Per-request HTTP settings for remote endpoints. */
  readonly http: { readonly timeoutMs?: number; readonly retriesMax?: number };
}

/** `cancel: true`: either a replication id given outright, or the request whose id to compute. */
export type ParsedRequest =
  | { readonly kind: 'replicate'; readonly request: ReplicationRequest }
  | { readonly kind: 'cancel-id'; readonly replicationId: string }
  | { readonly kind: 'cancel'; readonly request: ReplicationRequest };

/** Why a body is not a replication: CouchDB's `{error, Reason}` (500 there; 400 here). */
export const missingDatabase = (): CouchError => new CouchError(400, 'bad_request', 'Missing replicator database');

const booleanOptions: readonly (readonly [string, keyof ReplicationOptions])[] = [
  ['continuous', 'continuous'],
  ['create_target', 'createTarget'],
  ['winning_revs_only', 'winningRevsOnly'],
];

export function parseReplicationRequest(body: JsonObject): ParsedRequest {
  const options = parseOptions(body);
  const cancel = body['cancel'];
  if (cancel !== undefined && typeof cancel !== 'boolean') throw badRequest('parameter `cancel` must be a boolean');
  const givenId = body['_local_id'] ?? body['replication_id'] ?? body['id'];
  if (cancel === true && typeof givenId === 'string') return { kind: 'cancel-id', replicationId: givenId.replace(/ /g, '+') };
  const source = parseEndpoint(body['source']);
  const target = parseEndpoint(body['target']);
  const filter = body['filter'];
  if (filter !== undefined && filter !== null) {
    if (typeof filter !== 'string') throw badRequest('`filter` must be a string');
    // Design-document filters and `_view` need the query server; they come with views.
    throw notImplemented(`Filtered replication (\`filter\`: ${stringifyJson(filter)}) is not supported yet; use \`doc_ids\`.`);
  }
  const request: ReplicationRequest = { source, target, options, http: httpSettings(body) };
  return cancel === true ? { kind: 'cancel', request } : { kind: 'replicate', request };
}

function parseOptions(body: JsonObject): ReplicationOptions {
  const options: { -readonly [K in keyof ReplicationOptions]: ReplicationOptions[K] } = {};
  // CouchDB checks options in key order; the first bad one answers.
  for (const key of Object.keys(body).sort()) {
    const value = body[key]!;
    const flag = booleanOptions.find(([name]) => name === key);
    if (flag !== undefined) {
      if (typeof value !== 'boolean') throw badRequest(`parameter \`${key}\` must be a boolean`);
      (options as Record<string, unknown>)[flag[1]] = value;
    } else if (key === 'doc_ids') {
      if (value === null) continue;
      if (!Array.isArray(value)) throw badRequest('parameter `doc_ids` must be an array');
      options.docIds = normalizeDocIds(value);
    } else if (key === 'selector') {
      if (!isJsonObject(value)) throw badRequest('parameter `selector` must be a JSON object');
      options.selector = value;
    } else if (key === 'query_params') {
      if (!isJsonObject(value)) throw badRequest('parameter `query_params` must be an object');
    } else if (key === 'since_seq') {
      options.sinceSeq = value;
    } else if (key === 'use_checkpoints') {
      options.useCheckpoints = value !== false;
    } else if (key === 'worker_batch_size') {
      options.batchDocsMax = integerOption(key, value);
    } else if (key === 'checkpoint_interval') {
      options.checkpointIntervalMs = integerOption(key, value);
    }
  }
  const exclusive = ['doc_ids', 'filter', 'selector'].filter((key) => body[key] !== undefined && body[key] !== null);
  if (exclusive.length > 1) throw badRequest('`doc_ids`,`filter`,`selector` are mutually exclusive');
  return options;
}

/** CouchDB percent-decodes `doc_ids` and keeps them sorted (by bytes) and unique. */
function normalizeDocIds(values: readonly JsonValue[]): string[] {
  if (!values.every((id): id is string => typeof id === 'string')) throw badRequest('parameter `doc_ids` must contain strings');
  const decoded = [...new Set(values.map(percentDecode))];
  return decoded.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** CouchDB's `couch_util:to_integer`: a number or its decimal text. */
function integerOption(name: string, value: JsonValue): number {
  const number = typeof value === 'string' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw badRequest(`parameter \`${name}\` must be an integer`);
  return number;
}

function httpSettings(body: JsonObject): ReplicationRequest['http'] {
  const settings: { timeoutMs?: number; retriesMax?: number } = {};
  if (body['connection_timeout'] !== undefined) settings.timeoutMs = bounded('connection_timeout', body['connection_timeout'], 1, 3_600_000);
  if (body['retries_per_request'] !== undefined) settings.retriesMax = bounded('retries_per_request', body['retries_per_request'], 0, 100);
  return settings;
}

function bounded(name: string, value: JsonValue, min: number, max: number): number {
  const number = integerOption(name, value);
  if (number < min || number > max) throw badRequest(`parameter \`${name}\` must be from ${min} to ${max}`);
  return number;
}

export function parseEndpoint(value: JsonValue | undefined): EndpointSpec {
  if (value === undefined || value === null) throw missingDatabase();
  if (isJsonObject(value)) {
    const url = value['url'];
    if (url === undefined || url === null) throw missingDatabase();
    if (typeof url !== 'string' || !isHttpUrl(url)) return { kind: 'local', name: localName(url) };
    return remoteEndpoint(url, value['headers'], value['auth']);
  }
  if (typeof value === 'string' && isHttpUrl(value)) return remoteEndpoint(value, undefined, undefined);
  return { kind: 'local', name: localName(value) };
}

function isHttpUrl(text: string): boolean {
  return text.startsWith('http://') || text.startsWith('https://');
}

/** What CouchDB's local-name rewriting makes of a non-URL value: its text. */
function localName(value: JsonValue): string {
  return typeof value === 'string' ? value : stringifyJson(value);
}

function remoteEndpoint(url: string, headersValue: JsonValue | undefined, authValue: JsonValue | undefined): EndpointSpec {
  try {
    new URL(url);
  } catch {
    throw badRequest('endpoint has an invalid url');
  }
  const headers = new Map<string, string>();
  if (headersValue !== undefined && headersValue !== null) {
    if (!isJsonObject(headersValue)) throw badRequest('`headers` must be a JSON object');
    for (const [name, headerValue] of Object.entries(headersValue)) {
      if (typeof headerValue !== 'string') throw badRequest(`header \`${name}\` must be a string`);
      if (!headers.has(name)) headers.set(name, headerValue);
    }
  }
  let auth = basicAuthOf(authValue);
  for (const [name, headerValue] of headers) {
    if (name.toLowerCase() !== 'authorization') continue;
    const fromHeader = decodeBasic(headerValue);
    if (fromHeader === undefined) continue;
    headers.delete(name);
    auth ??= fromHeader;
  }
  const sorted = [...headers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { kind: 'remote', url, headers: sorted, ...(auth !== undefined ? { auth } : {}) };
}

function basicAuthOf(value: JsonValue | undefined): BasicAuth | undefined {
  if (!isJsonObject(value)) return undefined;
  const basic = value['basic'];
  if (!isJsonObject(basic)) return undefined;
  const username = basic['username'];
  const password = basic['password'];
  return typeof username === 'string' && typeof password === 'string' ? { username, password } : undefined;
}

function decodeBasic(header: string): BasicAuth | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header.trim());
  if (match === null) return undefined;
  const text = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** A URL for display: user info removed (CouchDB's `url_strip_password` keeps the user; Settee drops both). */
export function displayUrl(spec: EndpointSpec, localUrl: (name: string) => string): string {
  if (spec.kind === 'local') return localUrl(spec.name);
  try {
    const url = new URL(spec.url);
    url.username = '';
    url.password = '';
    const text = url.toString();
    // CouchDB's maybe_add_trailing_slash
    return text.includes('?') || text.endsWith('/') ? text : `${text}/`;
  } catch {
    return spec.url;
  }
}
