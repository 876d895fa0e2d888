/**
 * One replication endpoint's HTTP client as CouchDB 3.4's replicator runs it
 * (`couch_replicator_httpc`, `couch_replicator_auth_session`, the `#httpdb{}`
 * defaults in `couch_replicator_api_wrap.hrl`):
 *
 * - connections come from a pool and are kept alive between requests (a Node
 *   keep-alive `Agent` here; CouchDB's ibrowse pool holds `http_connections`);
 * - every request carries `Accept: application/json` and
 *   `User-Agent: CouchDB-Replicator/<version>` unless it overrides them;
 * - credentials in the URL are not sent as basic auth: the session plugin
 *   first `POST /_session` with a form body and then sends the
 *   `Cookie: AuthSession=…` it got, picks up a refreshed cookie from any 2xx
 *   reply, and on 401/403 gets a new one and retries;
 * - the query string is built as `query_args_to_string` builds it (values
 *   through `couch_httpd:quote`, i.e. `mochiweb_util:quote_plus`);
 * - 5xx, 408 and socket errors are retried (`retries`, doubling `wait`).
 *
 * Every exchange is recorded with the socket it used, so tests can check the
 * request sequence and that pooled sockets survived idle gaps.
 */
import type { Agent, IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';

export const couchReplicatorUserAgent = 'CouchDB-Replicator/3.4.3';

export interface RecordedRequest {
  readonly endpoint: string;
  readonly method: string;
  /** Path and query string as sent. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly status: number;
  /** The client side port of the connection: the same port means the same pooled socket. */
  readonly localPort: number;
  readonly reusedSocket: boolean;
  /** This exchange failed and was sent again. */
  retried: boolean;
  readonly startedAt: number;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json(): unknown;
}

export interface HttpParams {
  readonly method?: string;
  /** Relative to the database URL ('' for the database itself). */
  readonly path?: string;
  readonly qs?: readonly (readonly [string, string])[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** `#httpdb.retries` for this request (update_doc and open_doc_revs send with 0). */
  readonly retries?: number;
  /** Streams the reply body here instead of collecting it (the changes feed). */
  readonly onData?: (chunk: Buffer) => void;
  /** Tears the request down (a stopped continuous replication). */
  readonly signal?: AbortSignal;
  /** No inactivity timeout (ibrowse's `infinity` for `_changes`). */
  readonly noTimeout?: boolean;
}

export interface CouchHttpDbOptions {
  /** The database URL, credentials included (`http://user:pass@host:port/db`). */
  readonly url: string;
  /** A name for the log ('source', 'target'). */
  readonly name: string;
  readonly agent: Agent;
  readonly log: RecordedRequest[];
  readonly retries?: number;
  readonly waitMs?: number;
  /** `connection_timeout`: ibrowse's inactivity timeout. */
  readonly timeoutMs?: number;
}

/** mochiweb_util:quote_plus: unreserved bytes kept, space as `+`, the rest `%XX`. */
export function quotePlus(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9._~-]/.test(char)) out += char;
    else if (char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** couch_util:url_encode: letters, digits and `_.-:` kept, other bytes `%XX`. */
function urlEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.:-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** couch_util:encode_doc_id: `_design/` and `_local/` prefixes kept, the rest url-encoded. */
export function encodeDocId(id: string): string {
  for (const prefix of ['_design/', '_local/']) if (id.startsWith(prefix)) return prefix + urlEncode(id.slice(prefix.length));
  return urlEncode(id);
}

export class CouchHttpDb {
  readonly name: string;
  /** The database URL without credentials, with the trailing slash CouchDB adds. */
  readonly url: string;
  readonly #options: CouchHttpDbOptions;
  readonly #credentials: { readonly name: string; readonly password: string } | undefined;
  #cookie: string | undefined;

  constructor(options: CouchHttpDbOptions) {
    this.#options = options;
    this.name = options.name;
    const url = new URL(options.url);
    this.#credentials =
      url.username === '' ? undefined : { name: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
    this.url = url.href.endsWith('/') ? url.href : `${url.href}/`;
  }

  /** couch_replicator_auth_session:initialize: get the first cookie (a 404 means no session support). */
  async setup(): Promise<void> {
    if (this.#credentials !== undefined) await this.#refreshSession();
  }

  async send(params: HttpParams): Promise<HttpReply> {
    let retriesLeft = params.retries ?? this.#options.retries ?? 5;
    let waitMs = this.#options.waitMs ?? 250;
    let authRetried = false;
    for (;;) {
      const outcome = await this.#exchange(params).catch((error: unknown) => ({ error }));
      const failed = 'error' in outcome || outcome.reply.status === 408 || outcome.reply.status >= 500;
      if (!failed && (outcome.reply.status === 401 || outcome.reply.status === 403) && this.#cookie !== undefined && !authRetried) {
        // process_auth_failure: a new cookie, then the same request again
        outcome.record.retried = true;
        authRetried = true;
        await this.#refreshSession();
        continue;
      }
      if (!failed) return outcome.reply;
      if ('record' in outcome) outcome.record.retried = true;
      if (retriesLeft <= 0) throw 'error' in outcome ? outcome.error : new Error(`${params.method ?? 'GET'} ${params.path ?? ''}: ${outcome.reply.status}`);
      retriesLeft -= 1;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      waitMs *= 2;
    }
  }

  /** The URL of `params` (`full_url`): database URL, path, `?k=v&…`. */
  fullUrl(params: HttpParams): URL {
    const qs = (params.qs ?? []).map(([name, value]) => `${name}=${quotePlus(value)}`);
    return new URL(`${this.url}${params.path ?? ''}${qs.length > 0 ? `?${qs.join('&')}` : ''}`);
  }

  async #refreshSession(): Promise<void> {
    const credentials = this.#credentials;
    if (credentials === undefined) return;
    const body = `name=${quotePlus(credentials.name)}&password=${quotePlus(credentials.password)}`;
    const reply = await this.#raw(new URL('/_session', this.url), 'POST', {
      'User-Agent': couchReplicatorUserAgent,
      'Content-Type': 'application/x-www-form-urlencoded',
    }, body);
    if (reply.reply.status !== 200) throw new Error(`session_request_failed: POST /_session answered ${reply.reply.status}`);
    this.#cookie = authSessionCookie(reply.reply.headers);
    if (this.#cookie === undefined) throw new Error('cookie_not_found: no AuthSession cookie from POST /_session');
  }

  async #exchange(params: HttpParams): Promise<{ reply: HttpReply; record: RecordedRequest }> {
    // merge_headers: the #httpdb defaults, then the request's own (same name: the request's wins)
    const merged = new Map<string, [string, string]>();
    const defaults = { Accept: 'application/json', 'User-Agent': couchReplicatorUserAgent };
    for (const [name, value] of Object.entries({ ...defaults, ...(params.headers ?? {}) })) merged.set(name.toLowerCase(), [name, value]);
    const headers: Record<string, string> = {};
    if (this.#cookie !== undefined) headers['Cookie'] = `AuthSession=${this.#cookie}`;
    for (const [name, value] of merged.values()) headers[name] = value;
    const outcome = await this.#raw(this.fullUrl(params), params.method ?? 'GET', headers, params.body, params);
    const cookie = outcome.reply.status >= 200 && outcome.reply.status < 300 ? authSessionCookie(outcome.reply.headers) : undefined;
    if (cookie !== undefined) this.#cookie = cookie;
    return outcome;
  }

  #raw(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Buffer | string | undefined,
    stream: Pick<HttpParams, 'onData' | 'signal' | 'noTimeout'> = {},
  ): Promise<{ reply: HttpReply; record: RecordedRequest }> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const sent = { ...headers };
    if (payload !== undefined || method === 'POST' || method === 'PUT') sent['Content-Length'] ??= String(payload?.length ?? 0);
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: url.hostname, port: url.port, method, path: `${url.pathname}${url.search}`, headers: sent, agent: this.#options.agent },
        (response) => {
          const localPort = response.socket.localPort ?? 0;
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => (stream.onData === undefined ? chunks.push(chunk) : stream.onData(chunk)));
          response.on('error', reject);
          response.on('end', () => {
            const bytes = Buffer.concat(chunks);
            const record: RecordedRequest = {
              endpoint: this.name,
              method,
              url: `${url.pathname}${url.search}`,
              headers: sent,
              body: payload === undefined ? '' : payload.toString('latin1'),
              status: response.statusCode ?? 0,
              localPort,
              reusedSocket: request.reusedSocket,
              retried: false,
              startedAt,
            };
            this.#options.log.push(record);
            const reply: HttpReply = {
              status: record.status,
              headers: response.headers,
              body: bytes,
              json: () => JSON.parse(bytes.toString('utf8')) as unknown,
            };
            resolve({ reply, record });
          });
        },
      );
      if (stream.noTimeout !== true) {
        request.setTimeout(this.#options.timeoutMs ?? 30_000, () => request.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      }
      stream.signal?.addEventListener('abort', () => request.destroy(new Error('aborted')), { once: true });
      request.on('error', reject);
      if (payload !== undefined) request.write(payload);
      request.end();
    });
  }
}

function authSessionCookie(headers: IncomingHttpHeaders): string | undefined {
  for (const line of headers['set-cookie'] ?? []) {
    const match = /^\s*AuthSession=([^;]*)/i.exec(line);
    if (match !== null && (match[1] ?? '') !== '') return match[1];
  }
  return undefined;
}
