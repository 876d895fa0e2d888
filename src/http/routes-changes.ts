/**
 * `GET|POST /{db}/_changes`: every feed type, as CouchDB 3.4.3 answers.
 *
 * The order of checks follows `chttpd_db:handle_changes_req`: the database
 * (404, security), the POST body (415, JSON object), the query parameters,
 * the filter, the feed type, then `since`. The normal feed is served here
 * (with CouchDB's ETag: a digest of the database info, so `If-None-Match`
 * answers 304 until the database changes); live feeds in `changes-live.ts`;
 * reading and rendering rows in `changes-feed.ts`.
 */
import { createHash } from 'node:crypto';
import { badRequest } from '../core/errors.js';
import type { JsonObject } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import type { Database } from '../db/database.js';
import { decodeUtf8Json, readBody, requireContentType } from './body.js';
import { ChangesReader } from './changes-feed.js';
import type { FeedOptions } from './changes-feed.js';
import { resolveFilter } from './changes-filter.js';
import { normalHead, normalRowSeparator, normalTail, serveLiveFeed } from './changes-live.js';
import { feedKind, parseChangesQuery, resolveSince } from './changes-params.js';
import { openDatabase } from './db-access.js';
import { parseJsonText } from './json.js';
import type { RequestContext } from './request.js';
import { sendText } from './response.js';
import type { Router } from './router.js';
import { RowStream } from './row-stream.js';
import type { HttpServices } from './services.js';

export function registerChangesRoutes(router: Router): void {
  router.addDatabaseEndpoint('_changes', {
    allowed: 'GET,POST,HEAD',
    methods: { GET: serveChanges, POST: serveChanges },
  });
}

async function serveChanges(ctx: RequestContext, services: HttpServices): Promise<void> {
  const { db } = await openDatabase(ctx, services, 'member');
  const body = ctx.method === 'POST' ? await readPostBody(ctx, services) : undefined;
  const params = parseChangesQuery(ctx.query, services.limits, ctx.header('last-event-id'));
  const filter = await resolveFilter(params.filter, { method: ctx.method, query: ctx.query, body }, db);
  const feed = feedKind(params.feed);
  const since = resolveSince(params.since, db.currentSeq);
  const options: FeedOptions = {
    style: params.style,
    includeDocs: params.includeDocs,
    conflicts: params.conflicts,
    // Live feeds read forward only: they wait for what comes next.
    descending: feed === 'normal' && params.descending,
    filter,
    limit: params.limit,
    seqInterval: params.seqInterval,
  };
  const reader = new ChangesReader(db, options, since);
  if (feed === 'normal') {
    await serveNormalFeed(ctx, db, reader);
    return;
  }
  await serveLiveFeed(ctx, services, db, feed, reader, { heartbeatMs: params.heartbeatMs, timeoutMs: params.timeoutMs });
}

/** A POST body is optional; when present it must be a JSON object (`doc_ids`, `selector`). */
async function readPostBody(ctx: RequestContext, services: HttpServices): Promise<JsonObject> {
  requireContentType(ctx);
  const bytes = await readBody(ctx, { bytesMax: services.limits.requestBytesMax });
  if (bytes.length === 0) return {};
  const value = parseJsonText(decodeUtf8Json(bytes), { depthMax: services.limits.jsonDepthMax });
  if (!isJsonObject(value)) throw badRequest('Request body must be a JSON object');
  return value;
}

async function serveNormalFeed(ctx: RequestContext, db: Database, reader: ChangesReader): Promise<void> {
  const etag = await changesEtag(db);
  if (ctx.header('if-none-match') === etag) {
    sendText(ctx, 304, '', { headers: { ETag: etag } });
    return;
  }
  const stream = await RowStream.start(ctx, { headers: { ETag: etag }, head: normalHead, separator: normalRowSeparator });
  if (stream.closed) return;
  for (;;) {
    const batch = await reader.read();
    for (const row of batch.rows) {
      if (!(await stream.row(row.json))) return;
    }
    if (batch.atEnd) break;
  }
  await stream.end(normalTail(reader.lastSeq, await reader.pending()));
}

/**
 * CouchDB's `chttpd:make_etag` of the database info: the same for every
 * query of an unchanged database, different after any change. Base 36 of a
 * 128-bit digest, as CouchDB prints it.
 */
async function changesEtag(db: Database): Promise<string> {
  const info = await db.info();
  const digest = createHash('md5')
    .update(JSON.stringify([db.name, info.update_seq, info.purge_seq, info.doc_count, info.doc_del_count]))
    .digest('hex');
  return `"${BigInt(`0x${digest}`).toString(36).toUpperCase()}"`;
}
