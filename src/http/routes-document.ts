/**
 * `/{db}/{docid}`, `/{db}/_design/{d}`, `/{db}/_local/{d}`: GET, HEAD, PUT,
 * DELETE, COPY (and POST, CouchDB's form upload). Handlers live in
 * `routes-document-*.ts`; this file decides which document a path names.
 *
 * CouchDB's path rules (`chttpd_db:db_req`):
 * - `/{db}/_local` and `/{db}/_local%2F` → 400 "Invalid _local document id.";
 *   `/{db}/_local/{d}/…` → 400 "_local documents do not accept attachments.";
 * - `/{db}/_design%2Fx` is the document `_design/x`, but GET redirects to
 *   `/{db}/_design/x`;
 * - any other `/{db}/_name` that is not a database endpoint is a document id
 *   (GET → 404 `missing`, PUT → 400 `illegal_docid`): this family is the
 *   router's fallback for those paths.
 */
import { badRequest, dbNotFound, notImplemented } from '../core/errors.js';
import { validateDocId } from '../db/names.js';
import { requireContentType } from './body.js';
import { openDatabase } from './db-access.js';
import type { RequestContext } from './request.js';
import type { Handler, Route, Router } from './router.js';
import { attachmentRequest } from './routes-attachment.js';
import { documentTarget } from './router.js';
import { absoluteUrl } from './routes-document-common.js';
import { copyDocument } from './routes-document-copy.js';
import { getDocument, redirectDesignDoc } from './routes-document-get.js';
import { deleteDocument, putDocument } from './routes-document-write.js';
import type { HttpServices } from './services.js';

export function registerDocumentRoutes(router: Router): void {
  router.addDocumentRoute(documentRoute);
  router.setFallback(unclaimedRoute);
}

type DocumentHandler = (ctx: RequestContext, services: HttpServices, docId: string) => Promise<void>;

const allowed = 'DELETE,GET,HEAD,POST,PUT,COPY';

/** Runs `handler` on the document the path names, or on its attachment. */
function forDocument(handler: DocumentHandler): Handler {
  return (ctx, services) => {
    const target = documentTarget(ctx.segments);
    if (target.docId === '_local' || target.docId === '_local/') return badLocalId(ctx, services);
    if (target.attachment !== undefined) return attachmentRequest(ctx, services, target);
    return handler(ctx, services, target.docId);
  };
}

async function badLocalId(ctx: RequestContext, services: HttpServices): Promise<void> {
  await openDatabase(ctx, services, 'member');
  throw badRequest('Invalid _local document id.');
}

/**
 * `POST /{db}/{docid}`: CouchDB's HTML form upload. Its checks come first
 * (Referer, id, `multipart/form-data`); the upload itself belongs to the
 * attachments layer.
 */
async function postDocument(ctx: RequestContext, services: HttpServices, docId: string): Promise<void> {
  await openDatabase(ctx, services, 'member');
  const referer = ctx.header('referer');
  if (referer === undefined) throw badRequest('Referer header required.');
  if (refererHost(referer) !== new URL(absoluteUrl(ctx, '/')).host) throw badRequest('Referer header must match host.');
  validateDocId(docId);
  requireContentType(ctx, 'multipart/form-data');
  throw notImplemented('Form uploads are not supported yet.');
}

function refererHost(referer: string): string | undefined {
  try {
    return new URL(referer).host;
  } catch {
    return undefined;
  }
}

const documentRoute: Route = {
  allowed,
  methods: {
    GET: forDocument(getDocument),
    PUT: forDocument(putDocument),
    DELETE: forDocument(deleteDocument),
    COPY: forDocument(copyDocument),
    POST: forDocument(postDocument),
  },
};

/** `/{db}/_name…` that no endpoint claims: a document id as CouchDB sees it. */
function unclaimed(method: 'GET' | 'PUT' | 'DELETE' | 'COPY' | 'POST'): Handler {
  const inner = documentRoute.methods[method] as Handler;
  return async (ctx, services) => {
    const second = ctx.segments[1];
    if (second === undefined) throw dbNotFound();
    if (method === 'GET' && second.startsWith('_design/')) {
      await redirectDesignDoc(ctx, services);
      return;
    }
    await inner(ctx, services);
  };
}

const unclaimedRoute: Route = {
  allowed,
  methods: {
    GET: unclaimed('GET'),
    PUT: unclaimed('PUT'),
    DELETE: unclaimed('DELETE'),
    COPY: unclaimed('COPY'),
    POST: unclaimed('POST'),
  },
};
