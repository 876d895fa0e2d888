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
  /** `X-Couch-Request-ID`: the client's if it sent a sane one, else 10 random hex digits. */
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

function requestIdFor(sent: string | undefined, charsMax: number): string {
  if (sent !== undefined && sent.length > 0 && sent.length <= charsMax && /^[A-Za-z0-9_-]+$/.test(sent)) return sent;
  return randomBytes(5).toString('hex');
}
