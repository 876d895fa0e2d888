/**
 * `POST /_replicate` (CouchDB's chttpd_misc:handle_replicate_req): runs a
 * one-shot replication and answers its result, starts a continuous one (202
 * `{"ok":true,"_local_id":…}`), or cancels one (`"cancel": true`).
 *
 * As in CouchDB the body is read before anything else (so `GET /_replicate`
 * answers 400 "Missing request body") and any authenticated user may
 * replicate; local databases are then checked against the user's rights.
 * Local names are identified as CouchDB rewrites them: this server's URL
 * (from the request's `Host`) plus the caller's credentials.
 */
import { badRequest, methodNotAllowed, unauthorized } from '../core/errors.js';
import { isServerAdmin } from '../auth/user-ctx.js';
import { readSecurity, requireDbMember } from '../auth/security.js';
import type { Caller } from '../replicator/service.js';
import { decodeUtf8Json, readBody, requireContentType } from './body.js';
import { parseJsonText } from './json.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import { replicationService } from './routes-replicate-service.js';
import { registerSchedulerRoutes } from './routes-scheduler.js';
import type { HttpServices } from './services.js';
import { isJsonObject } from '../core/json-value.js';

export function registerReplicateRoutes(router: Router): void {
  router.addServerRoute('_replicate', {
    allowed: 'POST',
    access: 'public',
    methods: { POST: replicate, GET: notPost, PUT: notPost, DELETE: notPost, COPY: notPost },
  });
  registerSchedulerRoutes(router);
}

async function replicate(ctx: RequestContext, services: HttpServices): Promise<void> {
  const text = decodeUtf8Json(await readBody(ctx, { bytesMax: services.limits.requestBytesMax }));
  if (text.length === 0) throw badRequest('Missing request body');
  const body = parseJsonText(text, { depthMax: services.limits.jsonDepthMax });
  if (ctx.user.name === null) throw unauthorized('You are not an authenticated user');
  requireContentType(ctx);
  if (!isJsonObject(body)) throw badRequest('Request body must be a JSON object');
  const answer = await replicationService(services).replicate(body, callerOf(ctx, services));
  sendJson(ctx, answer.status, answer.body);
}

/** CouchDB parses the body of every method first: without one, that is the error. */
async function notPost(ctx: RequestContext, services: HttpServices): Promise<void> {
  const bytes = await readBody(ctx, { bytesMax: services.limits.requestBytesMax });
  if (bytes.length === 0) throw badRequest('Missing request body');
  throw methodNotAllowed('POST');
}

function callerOf(ctx: RequestContext, services: HttpServices): Caller {
  const host = ctx.header('host');
  const baseUrl = host !== undefined && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? `http://${host}` : localBase(ctx);
  const cookie = /(?:^|;\s*)(AuthSession=[^;]*)/.exec(ctx.header('cookie') ?? '')?.[1] ?? '';
  const authorization = ctx.header('authorization') ?? '';
  const basicUser = basicUserOf(authorization);
  const local =
    basicUser !== undefined
      ? { baseUrl, user: basicUser, headers: [['cookie', cookie]] as const }
      : { baseUrl, headers: [['authorization', authorization], ['cookie', cookie]] as const };
  return {
    user: ctx.user.name,
    isAdmin: isServerAdmin(ctx.user),
    local,
    authorizeLocal: async (name) => {
      const db = await services.couch.database(name).catch(() => undefined);
      if (db === undefined) return; // the job reports `db_not_found`
      requireDbMember(ctx.user, readSecurity(db.securityJson));
    },
  };
}

function localBase(ctx: RequestContext): string {
  const socket = ctx.request.socket;
  const address = socket.localAddress ?? '127.0.0.1';
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${socket.localPort ?? 5984}`;
}

function basicUserOf(header: string): string | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header.trim());
  if (match === null) return undefined;
  const text = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : text.slice(0, colon);
}
