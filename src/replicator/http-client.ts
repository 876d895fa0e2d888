/**
 * The HTTP client under `HttpEndpoint`: Node's global `fetch` (undici, with
 * keep-alive pooling by default) plus what replication needs around it:
 * basic auth, per-request timeouts, a bound on response size, and bounded
 * retries with exponential backoff and jitter on network errors, 5xx and 429.
 * Answers are parsed with `parseJson`, so document numbers keep their form.
 */
import { CouchError } from '../core/errors.js';
import { parseJson } from '../core/json-parse.js';
import type { JsonValue } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import type { ReplicationEnvironment } from './environment.js';
import { systemEnvironment } from './environment.js';

export interface BasicAuth {
  readonly username: string;
  readonly password: string;
}

export interface HttpClientOptions {
  /** The database URL; user info in it becomes basic auth. */
  readonly url: string;
  readonly auth?: { readonly basic?: BasicAuth };
  /** Extra request headers, sent as given. */
  readonly headers?: Readonly<Record<string, string>>;
  /** One request's limit (a long poll adds its own wait to it). */
  readonly timeoutMs?: number;
  /** Retries of one request after the first attempt. */
  readonly retriesMax?: number;
  readonly retryDelayMsInitial?: number;
  readonly retryDelayMsMax?: number;
  /** Largest response body read; larger answers fail the request. */
  readonly responseBytesMax?: number;
  readonly environment?: ReplicationEnvironment;
  /** Injected for tests; the global fetch by default. */
  readonly fetch?: typeof fetch;
}

export const requestTimeoutMsDefault = 30_000;
export const retriesMaxDefault = 5;
export const retryDelayMsInitialDefault = 250;
export const retryDelayMsMaxDefault = 10_000;
export const responseBytesMaxDefault = 64 * 1024 * 1024;

export interface HttpRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  /** Path below the database URL (`''` for the database itself), already encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** JSON text of the body. */
  readonly body?: string;
  /** Added to the request timeout (long polls). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

export interface HttpAnswer {
  readonly status: number;
  readonly json: JsonValue;
}

export class HttpClient {
  /** The database URL without credentials, ending in `/`. */
  readonly url: string;
  readonly user: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retriesMax: number;
  private readonly retryDelayMsInitial: number;
  private readonly retryDelayMsMax: number;
  private readonly responseBytesMax: number;
  private readonly environment: ReplicationEnvironment;
  private readonly fetch: typeof fetch;

  constructor(options: HttpClientOptions) {
    const url = new URL(options.url);
    let basic = options.auth?.basic;
    if (basic === undefined && url.username !== '') {
      basic = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    }
    url.username = '';
    url.password = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.url = url.toString();
    this.user = basic?.username;
    this.headers = { accept: 'application/json', ...(options.headers ?? {}) };
    if (basic !== undefined) {
      this.headers['authorization'] = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    }
    this.timeoutMs = options.timeoutMs ?? requestTimeoutMsDefault;
    this.retriesMax = options.retriesMax ?? retriesMaxDefault;
    this.retryDelayMsInitial = options.retryDelayMsInitial ?? retryDelayMsInitialDefault;
    this.retryDelayMsMax = options.retryDelayMsMax ?? retryDelayMsMaxDefault;
    this.responseBytesMax = options.responseBytesMax ?? responseBytesMaxDefault;
    this.environment = options.environment ?? systemEnvironment;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** Sends a request, retrying transient failures; non-2xx answers throw a `CouchError`. */
  async request(request: HttpRequest): Promise<HttpAnswer> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(request);
      const transient = outcome instanceof Error ? !(outcome instanceof CouchError) : isTransient(outcome.status);
      if (!transient || attempt >= this.retriesMax || request.signal?.aborted === true) {
        if (outcome instanceof Error) throw outcome;
        if (outcome.status >= 400) throw errorFrom(outcome);
        return outcome;
      }
      const ceiling = Math.min(this.retryDelayMsMax, this.retryDelayMsInitial * 2 ** attempt);
      await this.environment.sleep(ceiling / 2 + this.environment.random() * (ceiling / 2), request.signal);
    }
  }

  private async attempt(request: HttpRequest): Promise<HttpAnswer | Error> {
    const url = new URL(request.path, this.url);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const timeout = AbortSignal.timeout(this.timeoutMs + (request.waitMs ?? 0));
    const signal = request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
    const headers: Record<string, string> = { ...this.headers };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await this.fetch(url, {
        method: request.method,
        headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
        signal,
      });
      const text = await readBounded(response, this.responseBytesMax);
      if (text === undefined) {
        return new CouchError(502, 'response_too_large', `The answer of ${request.method} ${this.displayPath(request)} exceeds ${this.responseBytesMax} bytes`);
      }
      let json: JsonValue = null;
      if (text.length > 0) {
        try {
          json = parseJson(text);
        } catch {
          if (response.status < 400) return new Error(`invalid JSON from ${request.method} ${this.displayPath(request)}`);
        }
      }
      return { status: response.status, json };
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  private displayPath(request: HttpRequest): string {
    return new URL(request.path, this.url).pathname;
  }
}

function isTransient(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function errorFrom(answer: HttpAnswer): CouchError {
  const body = isJsonObject(answer.json) ? answer.json : {};
  const error = typeof body['error'] === 'string' ? body['error'] : 'unknown_error';
  const reason = typeof body['reason'] === 'string' ? body['reason'] : `HTTP ${answer.status}`;
  return new CouchError(answer.status, error, reason);
}

/** The body as text, or undefined when it exceeds `bytesMax` (the stream is cancelled). */
async function readBounded(response: Response, bytesMax: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > bytesMax) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
