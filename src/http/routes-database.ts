/**
 * `/{db}`: create (PUT), info (GET/HEAD), delete (DELETE), new document
 * (POST); and the fallback for unknown `/{db}/_name` paths, which CouchDB
 * treats as a document id starting with `_` (GET → 404 `missing`, POST → the
 * form-upload handler's "Referer header required.").
 */
import { badRequest } from '../core/errors.js';
import { requireServerAdmin } from '../auth/user-ctx.js';
import { checkDocumentLimits } from '../db/document-limits.js';
import { docUpdateFromJson } from '../db/document.js';
import { readSizedJsonBody, requireContentType } from './body.js';
import { openDatabase } from './db-access.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import { absoluteUrl, couchUrlEncode, documentLocation } from './routes-document-common.js';
import { writeDocument } from './routes-document-write.js';
import type { HttpServices } from './services.js';

export function registerDatabaseRoutes(router: Router): void {
  router.addDatabaseRoute({
    allowed: 'DELETE,GET,HEAD,POST,PUT',
    methods: { PUT: createDatabase, GET: databaseInfo, DELETE: deleteDatabase, POST: postDocument },
  });
  // Unknown `/{db}/_x` paths are the document family's fallback (routes-document.ts).
}

const positiveIntegerPattern = /^[0-9]+$/;

function validateShardParam(ctx: RequestContext, name: 'q' | 'n'): void {
  const value = ctx.query.get(name);
  if (value === undefined) return;
  if (!positiveIntegerPattern.test(value) || Number(value) < 1) {
    throw badRequest(`The \`${name}\` value should be a positive integer.`);
  }
}

async function createDatabase(ctx: RequestContext, services: HttpServices): Promise<void> {
  requireServerAdmin(ctx.user);
  const name = ctx.segments[0] ?? '';
  validateShardParam(ctx, 'q');
  validateShardParam(ctx, 'n');
  const partitioned = ctx.query.get('partitioned');
  if (partitioned !== undefined && partitioned !== 'true' && partitioned !== 'false') {
    throw badRequest('Invalid `partitioned` parameter');
  }
  await services.couch.createDatabase(name);
  sendJson(ctx, 201, { ok: true }, { headers: { Location: absoluteUrl(ctx, `/${couchUrlEncode(name)}`) } });
}

async function databaseInfo(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  sendJson(ctx, 200, await db.info());
}

async function deleteDatabase(ctx: RequestContext, services: HttpServices): Promise<void> {
  requireServerAdmin(ctx.user);
  if (ctx.query.has('rev')) {
    throw badRequest('You tried to DELETE a database with a ?=rev parameter. Did you mean to DELETE a document instead?');
  }
  await services.couch.deleteDatabase(ctx.segments[0] ?? '');
  sendJson(ctx, 200, { ok: true });
}

async function postDocument(ctx: RequestContext, services: HttpServices): Promise<void> {
  const opened = await openDatabase(ctx, services, 'member');
  requireContentType(ctx);
  const submitted = await readSizedJsonBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  const update = docUpdateFromJson(submitted.value, { newId: () => services.uuids.next() });
  checkDocumentLimits(update, services.limits, submitted.bytes);
  if (ctx.query.get('batch') === 'ok') {
    // Accepted now, written right after the reply; failures are only logged, as in CouchDB.
    writeDocument(ctx, opened, update, { newEdits: true }).catch((error: unknown) => {
      services.logger.info(`batch=ok write of ${update.id} to ${opened.db.name} failed: ${String(error)}`);
    });
    sendJson(ctx, 202, { ok: true, id: update.id });
    return;
  }
  const result = await writeDocument(ctx, opened, update, { newEdits: true });
  // CouchDB 3.4 sends no ETag here (unlike PUT /db/doc).
  const location = documentLocation(ctx, opened.db.name, result.id);
  sendJson(ctx, 201, { ok: true, id: result.id, rev: result.rev }, { headers: { Location: location } });
}
