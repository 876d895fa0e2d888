/**
 * Database maintenance and properties: `_ensure_full_commit`, `_compact`
 * (and `_compact/{ddoc}`), `_view_cleanup`, `_revs_limit`, `_security`; purge
 * lives in `routes-db-purge.ts`.
 *
 * Where CouchDB answers bad input with a 500 (`_revs_limit` of `"5"`, `0`, an
 * object; an invalid `_security` object), Settee answers a clean 400.
 */
import { badRequest, isCouchError, unauthorized } from '../core/errors.js';
import { stringifyJson } from '../core/json-write.js';
import { isDbAdmin, requireDbAdmin, validateSecurity } from '../auth/security.js';
import { drainBody, readJsonBody, requireContentType } from './body.js';
import { openDatabase } from './db-access.js';
import type { OpenedDatabase } from './db-access.js';
import type { RequestContext } from './request.js';
import { sendJson, sendText } from './response.js';
import type { Router } from './router.js';
import { registerPurgeRoutes } from './routes-db-purge.js';
import type { HttpServices } from './services.js';

export function registerDbAdminRoutes(router: Router): void {
  router.addDatabaseEndpoint('_ensure_full_commit', { allowed: 'POST', methods: { POST: ensureFullCommit } });
  router.addDatabaseEndpoint('_compact', { allowed: 'POST', methods: { POST: compact } });
  router.addDatabaseEndpoint('_view_cleanup', { allowed: 'POST', methods: { POST: viewCleanup } });
  router.addDatabaseEndpoint('_revs_limit', { allowed: 'PUT,GET', methods: { GET: getRevsLimit, PUT: putRevsLimit } });
  router.addDatabaseEndpoint('_security', { allowed: 'PUT,GET', methods: { GET: getSecurity, PUT: putSecurity } });
  registerPurgeRoutes(router);
}

async function ensureFullCommit(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  requireContentType(ctx);
  await drainBody(ctx);
  await db.flushed();
  const info = await db.info();
  sendJson(ctx, 201, { ok: true, instance_start_time: info.instance_start_time });
}

/**
 * `_compact` and `_view_cleanup` need a db admin; CouchDB's auth layer answers
 * 401 with this word order, even to logged-in users.
 */
async function openForCompaction(ctx: RequestContext, services: HttpServices): Promise<OpenedDatabase> {
  const refusal = (): Error => unauthorized('You are not a server or db admin.');
  const opened = await openDatabase(ctx, services, 'member').catch((error: unknown) => {
    throw isCouchError(error) && (error.status === 401 || error.status === 403) ? refusal() : error;
  });
  if (!isDbAdmin(ctx.user, opened.security)) throw refusal();
  return opened;
}

async function compact(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openForCompaction(ctx, services);
  requireContentType(ctx);
  await drainBody(ctx);
  const designName = ctx.segments[2];
  if (designName !== undefined) {
    // View indexes are compacted with the views; the design document must exist.
    await db.getDoc(`_design/${designName}`);
    sendJson(ctx, 202, { ok: true });
    return;
  }
  db.compact().catch((error: unknown) => {
    services.logger.error(`compaction of ${db.name} failed: ${String(error)}`);
  });
  sendJson(ctx, 202, { ok: true });
}

async function viewCleanup(ctx: RequestContext, services: HttpServices): Promise<void> {
  await openForCompaction(ctx, services);
  requireContentType(ctx);
  await drainBody(ctx);
  sendJson(ctx, 202, { ok: true });
}

async function getRevsLimit(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  sendText(ctx, 200, `${db.revsLimit}\n`);
}

async function putRevsLimit(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'db-admin');
  const value = await readJsonBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  // Only a plain positive JSON integer: `"5"`, `2.5`, `5.0` are refused (CouchDB: 500 function_clause).
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw badRequest('The revs limit must be a positive integer');
  }
  await db.setRevsLimit(value);
  sendJson(ctx, 200, { ok: true });
}

async function getSecurity(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  sendText(ctx, 200, `${db.securityJson}\n`);
}

async function putSecurity(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db, security } = await openDatabase(ctx, services, 'member');
  // CouchDB answers a non-admin with 500 no_majority; say what is wrong instead.
  requireDbAdmin(ctx.user, security);
  const value = await readJsonBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  validateSecurity(value);
  await db.setSecurityJson(stringifyJson(value));
  sendJson(ctx, 200, { ok: true });
}
