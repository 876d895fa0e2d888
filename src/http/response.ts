/**
 * Writing responses the way CouchDB 3.4 does: `Content-Type:
 * application/json` (no charset), `Cache-Control: must-revalidate`, bodies
 * ending in `\n`, `X-Couch-Request-ID` and `X-CouchDB-Body-Time: 0` (left out
 * by the few handlers CouchDB serves through its older `couch_httpd` path, such
 * as `_session`), a `Server` header and Node's `Date`. HEAD responses carry the
 * would-be `Content-Length` and no body.
 *
 * `renderError` is the one place an exception becomes a response.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { isCouchError } from '../core/errors.js';
import { formatSessionSetCookie } from '../auth/session-cookie.js';
import { sessionCookieName } from '../auth/session-cookie.js';
import { stringifyJsonValue } from './json.js';
import type { Logger } from './logger.js';
import type { RequestContext } from './request.js';

export interface ResponseSettings {
  /** The `Server` header value. */
  readonly serverHeader: string;
  /** Session lifetime in seconds (`Max-Age` of refreshed cookies). */
  readonly sessionTimeoutSeconds: number;
  readonly logger: Logger;
}

export interface SendOptions {
  readonly headers?: OutgoingHttpHeaders;
  /** Omit `X-Couch-Request-ID` / `X-CouchDB-Body-Time` (CouchDB's `couch_httpd` responses). */
  readonly withoutRequestHeaders?: boolean;
}

export function responseSettings(ctx: RequestContext): ResponseSettings {
  return ctx.settings;
}

/** Headers every response carries; `extra` wins over the defaults. */
export function baseHeaders(ctx: RequestContext, options: SendOptions = noOptions): OutgoingHttpHeaders {
  const settings = responseSettings(ctx);
  const headers: OutgoingHttpHeaders = {};
  if (!options.withoutRequestHeaders) {
    headers['X-Couch-Request-ID'] = ctx.requestId;
    headers['X-CouchDB-Body-Time'] = '0';
  }
  headers['Server'] = settings.serverHeader;
  headers['Cache-Control'] = 'must-revalidate';
  headers['Content-Type'] = 'application/json';
  const extra = options.headers;
  if (extra !== undefined) Object.assign(headers, extra);
  if (ctx.refreshedCookie !== undefined && !hasSessionCookie(extra?.['Set-Cookie'])) {
    headers['Set-Cookie'] = formatSessionSetCookie(ctx.refreshedCookie, {
      maxAgeSeconds: settings.sessionTimeoutSeconds,
      secure: false,
      nowMs: Date.now(),
    });
  }
  return headers;
}

/** The default options, shared rather than allocated per response. */
const noOptions: SendOptions = Object.freeze({});

function hasSessionCookie(value: OutgoingHttpHeaders[string]): boolean {
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [String(value)];
  return values.some((cookie) => cookie.startsWith(`${sessionCookieName}=`));
}

/** Sends `value` as a JSON body followed by `\n`. */
export function sendJson(ctx: RequestContext, status: number, value: unknown, options: SendOptions = noOptions): void {
  sendText(ctx, status, `${stringifyJsonValue(value)}\n`, options);
}

/** Sends a complete body (Content-Type from the options, JSON by default). */
export function sendText(ctx: RequestContext, status: number, body: string | Buffer, options: SendOptions = noOptions): void {
  const response = ctx.response;
  if (response.headersSent) throw new Error('assertion failed: response already started');
  const headers = baseHeaders(ctx, options);
  // A string body goes to the socket as it is (encoded once, on the write),
  // rather than copied into a Buffer first just to learn its length.
  headers['Content-Length'] = String(typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length);
  response.writeHead(status, headers);
  if (ctx.isHead) response.end();
  else if (typeof body === 'string') response.end(body, 'utf8');
  else response.end(body);
}

/** Renders any thrown value: a CouchError as itself, anything else as a logged 500. */
export function renderError(ctx: RequestContext, error: unknown): void {
  const response = ctx.response;
  const settings = responseSettings(ctx);
  if (response.headersSent) {
    // A streamed response cannot change its status any more; cut it short so
    // the client sees a truncated body rather than a well-formed lie.
    settings.logger.error(`request ${ctx.requestId} failed after the response started: ${describe(error)}`);
    response.destroy();
    return;
  }
  if (isCouchError(error)) {
    const headers: OutgoingHttpHeaders = {};
    const allowed = error.error === 'method_not_allowed' ? /^Only (.+) allowed$/.exec(error.reason) : null;
    if (allowed) headers['Allow'] = allowed[1];
    sendJson(ctx, error.status, error.toJSON(), { headers });
    return;
  }
  settings.logger.error(`request ${ctx.requestId} ${ctx.originalMethod} ${ctx.rawPath} failed: ${describe(error)}`);
  const reason = error instanceof Error ? error.message : String(error);
  sendJson(ctx, 500, { error: 'unknown_error', reason });
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
