/**
 * A tiny CouchDB-protocol server over a `Couch`, just the replication subset,
 * for testing `HttpEndpoint` before the real HTTP layer serves documents. It
 * can refuse `_bulk_get` (as old peers do), fail requests with 500 to exercise
 * retries, and require basic auth. Every request is recorded.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isCouchError } from '../../src/core/errors.js';
import { parseJson } from '../../src/core/json-parse.js';
import type { JsonObject, JsonValue } from '../../src/core/json-value.js';
import { stringifyJson } from '../../src/core/json-write.js';
import type { Couch } from '../../src/db/couch.js';
import { LocalEndpoint } from '../../src/replicator/local-endpoint.js';

export interface FakeServerOptions {
  readonly couch: Couch;
  readonly bulkGet?: boolean;
  /** Basic credentials required on every request, `user:password`. */
  readonly credentials?: string;
}

export interface FakeServer {
  readonly url: string;
  readonly requests: string[];
  /** The next `count` requests answer 500. */
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startFakeCouch(options: FakeServerOptions): Promise<FakeServer> {
  const requests: string[] = [];
  let failures = 0;
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (failures > 0) {
      failures--;
      send(response, 500, { error: 'unknown_error', reason: 'injected' });
      return;
    }
    if (options.credentials !== undefined) {
      const expected = `Basic ${Buffer.from(options.credentials).toString('base64')}`;
      if (request.headers.authorization !== expected) {
        send(response, 401, { error: 'unauthorized', reason: 'Name or password is incorrect.' });
        return;
      }
    }
    handle(options, request, response).catch((error: unknown) => {
      if (isCouchError(error)) send(response, error.status, { error: error.error, reason: error.reason });
      else send(response, 500, { error: 'unknown_error', reason: String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (count) => {
      failures = count;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(options: FakeServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
  const dbName = parts[0] ?? '';
  const rest = parts.slice(1);
  const endpoint = new LocalEndpoint({ couch: options.couch, dbName });
  const body = await readBody(request);
  const method = request.method ?? 'GET';
  const query = (name: string): string | undefined => url.searchParams.get(name) ?? undefined;
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) {
    if (method === 'PUT') {
      if (!(await endpoint.createIfMissing())) {
        send(response, 412, { error: 'file_exists', reason: 'The database could not be created, the file already exists.' });
      } else send(response, 201, { ok: true });
      return;
    }
    const info = await endpoint.info();
    send(response, 200, { db_name: info.dbName, update_seq: info.updateSeq, instance_start_time: info.instanceStartTime });
    return;
  }
  const [first, second] = rest;
  if (first === '_local' && second !== undefined) {
    if (method === 'PUT') {
      const rev = await endpoint.putLocal(second, body as JsonObject);
      send(response, 201, { ok: true, id: `_local/${second}`, rev });
      return;
    }
    const doc = await endpoint.getLocal(second);
    if (doc === undefined) send(response, 404, { error: 'not_found', reason: 'missing' });
    else send(response, 200, doc);
    return;
  }
  switch (first) {
    case '_changes': {
      const docIds = (body as JsonObject | null)?.['doc_ids'];
      const page = await endpoint.changes({
        since: Number(query('since') ?? '0'),
        limit: Number(query('limit') ?? '1000'),
        style: query('style') === 'main_only' ? 'main_only' : 'all_docs',
        ...(Array.isArray(docIds) ? { docIds: docIds as string[] } : {}),
        longpoll: query('feed') === 'longpoll',
        timeoutMs: Number(query('timeout') ?? '1000'),
      });
      const results = page.rows.map((row) => ({ seq: row.seq, id: row.id, changes: row.changes.map((c) => ({ rev: c.rev })), ...(row.deleted ? { deleted: true } : {}) }));
      send(response, 200, { results, last_seq: page.lastSeq, pending: 0 });
      return;
    }
    case '_revs_diff': {
      const map = new Map<string, string[]>(Object.entries(body as JsonObject).map(([id, revs]) => [id, revs as string[]]));
      const answer: JsonObject = {};
      for (const [id, entry] of await endpoint.revsDiff(map)) {
        answer[id] = entry.possibleAncestors.length > 0 ? { missing: [...entry.missing], possible_ancestors: [...entry.possibleAncestors] } : { missing: [...entry.missing] };
      }
      send(response, 200, answer);
      return;
    }
    case '_bulk_get': {
      if (options.bulkGet === false) {
        send(response, 404, { error: 'not_found', reason: 'missing' });
        return;
      }
      const docs = (body as JsonObject)['docs'] as JsonObject[];
      const results: JsonValue[] = [];
      for (const entry of docs) {
        const fetched = await endpoint.openRevs(String(entry['id']), [String(entry['rev'])]);
        results.push({
          id: entry['id']!,
          docs: fetched.map((f): JsonValue => (f.ok ? { ok: f.doc } : { error: { id: f.id, rev: f.rev, error: f.error, reason: f.reason } })),
        });
      }
      send(response, 200, { results });
      return;
    }
    case '_bulk_docs': {
      const failures = await endpoint.bulkDocs((body as JsonObject)['docs'] as JsonObject[]);
      send(response, 201, failures.map((f) => ({ id: f.id, error: f.error, reason: f.reason })));
      return;
    }
    case '_ensure_full_commit': {
      send(response, 201, { ok: true, instance_start_time: await endpoint.ensureFullCommit() });
      return;
    }
    default: {
      const id = rest.join('/');
      const openRevs = query('open_revs');
      if (openRevs === undefined) {
        send(response, 400, { error: 'bad_request', reason: 'only open_revs is served' });
        return;
      }
      const fetched = await endpoint.openRevs(id, parseJson(openRevs) as string[]);
      send(response, 200, fetched.map((f): JsonValue => (f.ok ? { ok: f.doc } : { missing: f.rev })));
    }
  }
}

function send(response: ServerResponse, status: number, body: JsonValue): void {
  const text = stringifyJson(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<JsonValue | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? null : parseJson(text);
}
