/**
 * `COPY /{db}/{docid}` with `Destination: dst` or `Destination: dst?rev=N-…`:
 * the source revision (the winner, or `?rev=`/`If-Match`) is written under
 * the destination id on top of the given destination revision (none: the
 * destination must not exist, else 409). Always 201 with the quoted new rev
 * as ETag, even for local documents, as CouchDB answers.
 */
import { badRequest, notFound } from '../core/errors.js';
import type { JsonObject } from '../core/json-value.js';
import { isJsonObject } from '../core/json-value.js';
import type { Rev } from '../core/rev.js';
import { parseRev } from '../core/rev.js';
import type { Database } from '../db/database.js';
import type { RevHistory } from '../db/document.js';
import { readLocal } from '../db/local-docs.js';
import { isLocalId, validateDocId } from '../db/names.js';
import { openDatabase } from './db-access.js';
import { parseJsonText } from './json.js';
import { decodeComponent } from './path.js';
import type { RequestContext } from './request.js';
import { documentLocation, explicitOrHeaderRev, queryRev, revEtag, sendWriteResult } from './routes-document-common.js';
import { writeDocument } from './routes-document-write.js';
import type { HttpServices } from './services.js';

interface Destination {
  readonly docId: string;
  readonly history: RevHistory | null;
}

/** CouchDB's `parse_copy_destination_header`. */
function parseDestination(header: string | undefined): Destination {
  if (header === undefined) throw badRequest('Destination header is mandatory for COPY.');
  if (/^https?:\/\//.test(header)) throw badRequest('Destination URL must be relative.');
  const question = header.indexOf('?');
  if (question < 0) return { docId: decodeComponent(header), history: null };
  const revQuery = header.slice(question + 1);
  const equals = revQuery.indexOf('=');
  const rev = parseRev(equals < 0 ? undefined : revQuery.slice(equals + 1));
  return { docId: decodeComponent(header.slice(0, question)), history: { pos: rev.pos, hashes: [rev.hash] } };
}

interface SourceDoc {
  readonly body: JsonObject;
  readonly deleted: boolean;
}

async function readSource(db: Database, docId: string, rev: Rev | undefined): Promise<SourceDoc> {
  if (isLocalId(docId)) {
    if (rev !== undefined) throw notFound('missing');
    const local = await readLocal(db.store, docId);
    return { body: asObject(parseJsonText(local.json)), deleted: false };
  }
  const doc = await db.getDoc(docId, rev === undefined ? {} : { rev });
  return { body: asObject(parseJsonText(doc.bodyJson)), deleted: doc.deleted };
}

function asObject(value: unknown): JsonObject {
  if (!isJsonObject(value)) throw new Error('assertion failed: a stored body is a JSON object');
  return value;
}

export async function copyDocument(ctx: RequestContext, services: HttpServices, sourceId: string): Promise<void> {
  const opened = await openDatabase(ctx, services, 'member');
  const sourceRev = explicitOrHeaderRev(ctx, queryRev(ctx));
  const destination = parseDestination(ctx.header('destination'));
  validateDocId(destination.docId);
  const source = await readSource(opened.db, sourceId, sourceRev);
  const result = await writeDocument(
    ctx,
    opened,
    { id: destination.docId, history: destination.history, deleted: source.deleted, body: source.body, attachments: null },
    { newEdits: true },
  );
  sendWriteResult(ctx, 201, result, {
    ETag: revEtag(result.rev),
    Location: documentLocation(ctx, opened.db.name, destination.docId),
  });
}
