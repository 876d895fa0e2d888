/**
 * Server endpoints that need no database: `/` (welcome), `/_up`, `/_uuids`,
 * `/_active_tasks` and `/favicon.ico`.
 */
import { createHash } from 'node:crypto';
import { badRequest } from '../core/errors.js';
import { requireServerAdmin } from '../auth/user-ctx.js';
import type { RequestContext } from './request.js';
import { sendJson, sendText } from './response.js';
import type { Router } from './router.js';
import type { HttpServices } from './services.js';

export function registerServerRoutes(router: Router): void {
  router.addServerRoute('', { allowed: 'GET,HEAD', access: 'public', methods: { GET: welcome } });
  router.addServerRoute('_up', { allowed: 'GET,HEAD', access: 'public', methods: { GET: up } });
  router.addServerRoute('_uuids', { allowed: 'GET', access: 'public', methods: { GET: uuids } });
  // Reachable by anyone (a wrong method is a 405 even anonymously); GET itself is admin-only.
  router.addServerRoute('_active_tasks', { allowed: 'GET,HEAD', access: 'public', methods: { GET: activeTasks } });
  router.addServerRoute('favicon.ico', { allowed: 'GET,HEAD', access: 'public', methods: { GET: favicon } });
}

function welcome(ctx: RequestContext, services: HttpServices): void {
  const info = services.welcome;
  sendJson(ctx, 200, {
    couchdb: 'Welcome',
    version: info.version,
    git_sha: info.gitSha,
    uuid: info.uuid,
    features: info.features,
    vendor: info.vendor,
  });
}

function up(ctx: RequestContext): void {
  sendJson(ctx, 200, { status: 'ok', seeds: {} });
}

/** CouchDB reads `count` with Erlang's `list_to_integer`: an optional sign and digits. */
function uuidCount(raw: string | undefined, countMax: number): number {
  const text = raw ?? '1';
  if (!/^[+-]?[0-9]+$/.test(text)) throw badRequest('count must be a positive integer');
  const count = Number(text);
  if (count > countMax) throw badRequest('count parameter too large');
  if (count < 0) throw badRequest('count must be a positive integer');
  return count;
}

function uuids(ctx: RequestContext, services: HttpServices): void {
  const count = uuidCount(ctx.query.get('count'), services.limits.uuidsCountMax);
  const list: string[] = [];
  for (let index = 0; index < count; index++) list.push(services.uuids.next());
  const etag = `"${createHash('sha1').update(list.join(',')).digest('hex').slice(0, 25).toUpperCase()}"`;
  sendJson(ctx, 200, { uuids: list }, {
    headers: {
      'Cache-Control': 'no-cache',
      // a past date, on purpose: no cache may keep these
      Expires: 'Mon, 01 Jan 1990 00:00:00 GMT',
      Pragma: 'no-cache',
      ETag: etag,
    },
  });
}

function activeTasks(ctx: RequestContext, services: HttpServices): void {
  requireServerAdmin(ctx.user);
  sendJson(ctx, 200, services.tasks.list());
}

/** Settee ships no icon; CouchDB without a docroot answers the same way. */
function favicon(ctx: RequestContext): void {
  const expires = new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString();
  sendText(ctx, 404, 'Not found.', {
    withoutRequestHeaders: true,
    headers: { 'Content-Type': 'text/plain', 'Cache-Control': 'public, max-age=31536000', Expires: expires },
  });
}
