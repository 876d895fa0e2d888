/**
 * `_revs_diff` and `_missing_revs`: which of the given revisions a database
 * lacks. Both take `{"id": ["rev", …], …}`.
 *
 * - `_revs_diff` answers only the ids with something missing:
 *   `{"id":{"missing":[…],"possible_ancestors":[…]}}` (`{}` when nothing is);
 *   malformed revs are 400 "Invalid rev format";
 * - `_missing_revs` answers `{"missing_revs":{"id":[…]}}` and, like CouchDB,
 *   does not check rev syntax (a malformed rev is simply missing).
 */
import { badRequest } from '../core/errors.js';
import type { JsonObject } from '../core/json-value.js';
import type { Rev } from '../core/rev.js';
import { parseRev, tryParseRev } from '../core/rev.js';
import { orderedKeys } from '../core/json-order.js';
import { readJsonObjectBody } from './body.js';
import { openDatabase } from './db-access.js';
import type { RequestContext } from './request.js';
import { sendJson } from './response.js';
import type { Router } from './router.js';
import type { HttpServices } from './services.js';

export function registerRevsRoutes(router: Router): void {
  router.addDatabaseEndpoint('_revs_diff', { allowed: 'POST', methods: { POST: revsDiff } });
  router.addDatabaseEndpoint('_missing_revs', { allowed: 'POST', methods: { POST: missingRevs } });
}

/** The `{"id":[revs]}` body; CouchDB answers a non-list with 500 function_clause, Settee with a clean 400. */
function revLists(body: JsonObject, idsMax: number): Map<string, readonly unknown[]> {
  const lists = new Map<string, readonly unknown[]>();
  const keys = orderedKeys(body);
  if (keys.length > idsMax) throw badRequest(`Too many documents in one request (at most ${idsMax}).`);
  for (const id of keys) {
    const revs = body[id];
    if (!Array.isArray(revs)) throw badRequest('Invalid list of revisions');
    lists.set(id, revs);
  }
  return lists;
}

async function readRevLists(ctx: RequestContext, services: HttpServices): Promise<{ db: Awaited<ReturnType<typeof openDatabase>>['db']; lists: Map<string, readonly unknown[]> }> {
  const { db } = await openDatabase(ctx, services, 'member');
  const body = await readJsonObjectBody(ctx, { bytesMax: services.limits.requestBytesMax, depthMax: services.limits.jsonDepthMax });
  return { db, lists: revLists(body, services.limits.bulkDocsMax) };
}

async function revsDiff(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db, lists } = await readRevLists(ctx, services);
  const request = new Map<string, readonly Rev[]>();
  for (const [id, revs] of lists) request.set(id, revs.map((rev) => parseRev(rev)));
  const diff = await db.revsDiff(request);
  const answer: Record<string, unknown> = {};
  for (const [id, entry] of diff) answer[id] = entry;
  sendJson(ctx, 200, answer);
}

async function missingRevs(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db, lists } = await readRevLists(ctx, services);
  const request = new Map<string, readonly Rev[]>();
  const malformed = new Map<string, string[]>();
  for (const [id, revs] of lists) {
    const parsed: Rev[] = [];
    for (const rev of revs) {
      const valid = tryParseRev(rev);
      if (valid !== undefined) parsed.push(valid);
      else malformed.set(id, [...(malformed.get(id) ?? []), String(rev)]);
    }
    request.set(id, parsed);
  }
  const diff = await db.revsDiff(request);
  const answer: Record<string, string[]> = {};
  for (const id of lists.keys()) {
    const missing = [...(diff.get(id)?.missing ?? []), ...(malformed.get(id) ?? [])];
    if (missing.length > 0) answer[id] = missing;
  }
  sendJson(ctx, 200, { missing_revs: answer });
}
