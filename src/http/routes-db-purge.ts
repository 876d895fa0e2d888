/**
 * `_purge` (server admins only), `_purged_infos` and `_purged_infos_limit`.
 *
 * `POST /db/_purge {"id":["rev",…]}` removes leaf revisions for good and
 * answers 201 `{"purge_seq":null,"purged":{"id":[revs actually purged]}}`
 * (`purge_seq` is null in CouchDB 3 clusters).
 */
import { badRequest } from '../core/errors.js';
import { orderedKeys } from '../core/json-order.js';
import { requireServerAdmin } from '../auth/user-ctx.js';
import { readJsonBody, readJsonObjectBody, requireContentType } from './body.js';
import { openDatabase } from './db-access.js';
import type { RequestContext } from './request.js';
import { sendJson, sendText } from './response.js';
import type { Router } from './router.js';
import type { HttpServices } from './services.js';

export function registerPurgeRoutes(router: Router): void {
  router.addDatabaseEndpoint('_purge', { allowed: 'POST', methods: { POST: purge } });
  router.addDatabaseEndpoint('_purged_infos', { allowed: 'GET', methods: { GET: purgedInfos } });
  router.addDatabaseEndpoint('_purged_infos_limit', {
    allowed: 'PUT,GET',
    methods: { GET: getPurgedInfosLimit, PUT: putPurgedInfosLimit },
  });
}

async function purge(ctx: RequestContext, services: HttpServices): Promise<void> {
  requireServerAdmin(ctx.user);
  const { db } = await openDatabase(ctx, services, 'server-admin');
  requireContentType(ctx);
  const body = await readJsonObjectBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  const ids = orderedKeys(body);
  if (ids.length > services.limits.bulkDocsMax) {
    throw badRequest(`Too many documents in one request (at most ${services.limits.bulkDocsMax}).`);
  }
  const request = new Map<string, string[]>();
  for (const id of ids) {
    const revs = body[id];
    if (!Array.isArray(revs) || !revs.every((rev): rev is string => typeof rev === 'string')) {
      throw badRequest('Invalid list of revisions');
    }
    request.set(id, revs);
  }
  const result = await db.purge(request);
  const purged: Record<string, string[]> = {};
  for (const [id, revs] of result.purged) purged[id] = revs;
  sendJson(ctx, 201, { purge_seq: null, purged });
}

async function purgedInfos(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  const infos = await db.purgedInfos();
  sendJson(ctx, 200, { purged_infos: infos.map((info) => ({ id: info.id, revs: info.revs })) });
}

async function getPurgedInfosLimit(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  sendText(ctx, 200, `${db.purgedInfosLimit}\n`);
}

async function putPurgedInfosLimit(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'db-admin');
  const value = await readJsonBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw badRequest('`purged_infos_limit` must be positive integer');
  }
  await db.setPurgedInfosLimit(value);
  sendJson(ctx, 200, { ok: true });
}
