/**
 * `/_session`: cookie login (POST, JSON or form body), who-am-I (GET) and
 * logout (DELETE), as CouchDB 3.4's `couch_httpd_auth` answers them. These
 * responses carry no `X-Couch-Request-ID`/`X-CouchDB-Body-Time` headers, like
 * CouchDB's.
 */
import { badContentType, badRequest, isCouchError, unauthorized } from '../core/errors.js';
import { isJsonObject } from '../core/json-value.js';
import { formatSessionSetCookie } from '../auth/session-cookie.js';
import { decodeUtf8Json, readBody } from './body.js';
import { parseJsonText } from './json.js';
import { QueryParams } from './query.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import type { HttpServices } from './services.js';

export function registerSessionRoutes(router: Router): void {
  router.addServerRoute('_session', {
    allowed: 'GET,HEAD,POST,DELETE',
    access: 'public',
    methods: { GET: getSession, POST: login, DELETE: logout },
  });
}

const authenticationHandlers = ['cookie', 'default'];

function getSession(ctx: RequestContext): void {
  if (ctx.user.name === null && ctx.query.get('basic') === 'true') throw unauthorized('Please login.');
  const info: Record<string, unknown> = { authentication_handlers: authenticationHandlers };
  if (ctx.authMethod !== undefined) info['authenticated'] = ctx.authMethod;
  sendJson(
    ctx,
    200,
    { ok: true, userCtx: { name: ctx.user.name, roles: ctx.user.roles }, info },
    { withoutRequestHeaders: true },
  );
}

async function login(ctx: RequestContext, services: HttpServices): Promise<void> {
  const form = await readLoginForm(ctx, services);
  const name = loginName(form);
  const password = form.get('password') ?? '';
  const authenticator = services.authenticator;
  let user;
  try {
    user = await authenticator.login(name, password, ctx.peer);
  } catch (error) {
    if (!isCouchError(error) || error.status !== 401) throw error;
    services.logger.warn(`${ctx.peer} - Authentication failed for user ${name}`);
    const cookie = sessionSetCookie(ctx, '', authenticator.sessionTimeoutSeconds);
    const failRedirect = ctx.query.get('fail');
    sendJson(
      ctx,
      failRedirect === undefined ? 401 : 302,
      { error: 'unauthorized', reason: error.reason },
      { withoutRequestHeaders: true, headers: redirectHeaders(ctx, cookie, failRedirect) },
    );
    return;
  }
  const value = await authenticator.sessionCookieFor(user.name ?? name);
  const cookie = sessionSetCookie(ctx, value, authenticator.sessionTimeoutSeconds);
  const next = ctx.query.get('next');
  sendJson(
    ctx,
    next === undefined ? 200 : 302,
    { ok: true, name: user.name, roles: user.roles },
    { withoutRequestHeaders: true, headers: redirectHeaders(ctx, cookie, next) },
  );
}

function logout(ctx: RequestContext, services: HttpServices): void {
  const cookie = sessionSetCookie(ctx, '', services.authenticator.sessionTimeoutSeconds);
  const next = ctx.query.get('next');
  sendJson(ctx, next === undefined ? 200 : 302, { ok: true }, {
    withoutRequestHeaders: true,
    headers: redirectHeaders(ctx, cookie, next),
  });
}

/** Login fields from a form or JSON body (CouchDB accepts only these two types). */
async function readLoginForm(ctx: RequestContext, services: HttpServices): Promise<Map<string, string>> {
  const type = (ctx.header('content-type') ?? '').toLowerCase();
  const isForm = type.startsWith('application/x-www-form-urlencoded');
  if (!isForm && !type.startsWith('application/json')) {
    throw badContentType("Content-Type must be 'application/x-www-form-urlencoded' or 'application/json'");
  }
  const text = decodeUtf8Json(await readBody(ctx, { bytesMax: services.limits.requestBytesMax }));
  const fields = new Map<string, string>();
  if (isForm) {
    for (const entry of new QueryParams(text).entries) if (!fields.has(entry.name)) fields.set(entry.name, entry.value);
    return fields;
  }
  const body = parseJsonText(text);
  if (!isJsonObject(body)) throw badRequest('Request body must be a JSON object');
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === 'string') fields.set(key, value);
    else if (key === 'name' || key === 'username' || key === 'password') throw badRequest(`${key} must be a string`);
  }
  return fields;
}

function loginName(form: Map<string, string>): string {
  const name = form.get('name');
  const username = form.get('username');
  if (username === undefined) {
    if (name === undefined) throw badRequest('request body must contain a username');
    return name;
  }
  if (name !== undefined && name !== username) throw badRequest('request body contains different usernames');
  return username;
}

function sessionSetCookie(ctx: RequestContext, value: string, maxAgeSeconds: number): string {
  return formatSessionSetCookie(value, { maxAgeSeconds, secure: isHttps(ctx), nowMs: Date.now() });
}

function isHttps(ctx: RequestContext): boolean {
  return 'encrypted' in ctx.request.socket && Boolean((ctx.request.socket as { encrypted?: boolean }).encrypted);
}

function redirectHeaders(ctx: RequestContext, cookie: string, target: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'Set-Cookie': cookie };
  if (target !== undefined) headers['Location'] = absoluteUri(ctx, target);
  return headers;
}

/**
 * CouchDB's `absolute_uri`: scheme and host from `X-Forwarded-*`/`Host`, then
 * the given path. A target that is not a plain path (`//evil`, `@evil`) would
 * turn that into an open redirect, so it is reduced to a path.
 */
export function absoluteUri(ctx: RequestContext, target: string): string {
  const path = target.startsWith('/') && !target.startsWith('//') ? target : `/${target.replace(/^\/+/, '')}`;
  const host =
    ctx.header('x-forwarded-host') ??
    ctx.header('host') ??
    `${ctx.request.socket.localAddress ?? '127.0.0.1'}:${ctx.request.socket.localPort ?? 5984}`;
  const scheme =
    ctx.header('x-forwarded-ssl') === 'on' ? 'https' : (ctx.header('x-forwarded-proto') ?? (isHttps(ctx) ? 'https' : 'http'));
  return `${scheme}://${host}${path}`;
}
