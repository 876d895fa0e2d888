/**
 * One HTTP request as route handlers see it: CouchDB's method (HEAD is
 * served by the GET handler, as chttpd aliases it), decoded path segments,
 * query parameters, who is asking, and the response it is building.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AuthMethod } from '../auth/authenticator.js';
import type { UserCtx } from '../auth/user-ctx.js';
import { anonymousUser } from '../auth/user-ctx.js';
import { pathSegments, splitUrl } from './path.js';
import { QueryParams } from './query.js';
import type { ResponseSettings } from './response.js';

export class RequestContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  /** The method handlers dispatch on: `HEAD` becomes `GET`; a POST may be overridden (X-HTTP-Method-Override). */
  readonly method: string;
  /** The method as received. */
  readonly originalMethod: string;
  readonly isHead: boolean;
  /** Path and query as received, still percent-encoded. */
  readonly rawPath: string;
  readonly rawQuery: string;
  /** Decoded path segments (`+` is a space, `%2F` stays inside its segment). */
  readonly segments: readonly string[];
  readonly query: QueryParams;
  /** Remote address, for lockout and logs. */
  readonly peer: string;
  /** `X-Couch-Request-ID`: the client's if it sent a sane one, else 10 hex digits unique to this process. */
  readonly requestId: string;
  readonly startedAtMs: number;
  /** Server-wide response settings (Server header, session lifetime, logger). */
  readonly settings: ResponseSettings;

  user: UserCtx = anonymousUser;
  /** Which authentication handler accepted the request (`_session`'s `info.authenticated`). */
  authMethod: AuthMethod | undefined;
  /** A renewed `AuthSession` value to send back with the response. */
  refreshedCookie: string | undefined;
  /** Set once the body has been read (or drained), so it is read only once. */
  bodyRead = false;

  constructor(request: IncomingMessage, response: ServerResponse, options: { requestIdCharsMax: number; nowMs: number; settings: ResponseSettings }) {
    this.request = request;
    this.response = response;
    this.originalMethod = (request.method ?? 'GET').toUpperCase();
    this.isHead = this.originalMethod === 'HEAD';
    this.method = effectiveMethod(this.originalMethod, headerValue(request, 'x-http-method-override'));
    const { rawPath, rawQuery } = splitUrl(request.url ?? '/');
    this.rawPath = rawPath;
    this.rawQuery = rawQuery;
    this.segments = pathSegments(rawPath);
    this.query = new QueryParams(rawQuery);
    this.peer = request.socket.remoteAddress ?? 'unknown';
    this.requestId = requestIdFor(headerValue(request, 'x-couch-request-id'), options.requestIdCharsMax);
    this.startedAtMs = options.nowMs;
    this.settings = options.settings;
  }

  /** A request header (first value if repeated). */
  header(name: string): string | undefined {
    return headerValue(this.request, name);
  }
}

export function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

const overridable = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT', 'COPY']);

function effectiveMethod(original: string, override: string | undefined): string {
  let method = original;
  if (original === 'POST' && override !== undefined && overridable.has(override)) method = override;
  return method === 'HEAD' ? 'GET' : method;
}

/**
 * Request ids are 40 bits, as CouchDB's 10 hex digits: a random start drawn
 * once per process, then a counter, so ids never repeat within a process
 * (before 2^40 requests) and differ between processes, without reading the
 * random source on every request.
 */
const requestIdSpace = 2 ** 40;
const requestIdStart = randomBytes(5).readUIntBE(0, 5);
let requestsCounted = 0;

function nextRequestId(): string {
  requestsCounted = (requestsCounted + 1) % requestIdSpace;
  return ((requestIdStart + requestsCounted) % requestIdSpace).toString(16).padStart(10, '0');
}

const sentRequestIdPattern = /^[A-Za-z0-9_-]+$/;

function requestIdFor(sent: string | undefined, charsMax: number): string {
  if (sent !== undefined && sent.length > 0 && sent.length <= charsMax && sentRequestIdPattern.test(sent)) return sent;
  return nextRequestId();
}
