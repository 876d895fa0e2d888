/** The framework pieces other route families build on, exercised through test-only routes. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { TestServer } from '../support/http.js';
import { startTestServer } from '../support/http.js';
import { readJsonBody, requireContentType } from '../../src/http/body.js';
import { sendJson } from '../../src/http/response.js';
import { RowStream, viewRowsHead, viewRowsSeparator, viewRowsTail } from '../../src/http/row-stream.js';
import type { Router } from '../../src/http/router.js';
import { documentTarget } from '../../src/http/router.js';
import { routeFamilies } from '../../src/http/routes.js';
import { registerDocumentRoutes } from '../../src/http/routes-document.js';

// These tests register their own document route in place of the real one.
const baseFamilies = routeFamilies.filter((family) => family !== registerDocumentRoutes);

let release: (() => void) | undefined;
let releaseLive: (() => void) | undefined;

function registerTestRoutes(router: Router): void {
  router.addServerRoute('_echo', {
    allowed: 'POST',
    access: 'public',
    methods: {
      POST: async (ctx, services) => {
        requireContentType(ctx);
        const body = await readJsonBody(ctx, { bytesMax: services.limits.requestBytesMax });
        sendJson(ctx, 200, { body, segments: ctx.segments });
      },
    },
  });
  router.addServerRoute('_rows', {
    allowed: 'GET,HEAD',
    access: 'public',
    methods: {
      GET: async (ctx) => {
        const count = Number(ctx.query.get('count') ?? '0');
        const stream = await RowStream.start(ctx, { head: viewRowsHead({ total_rows: count, offset: 0 }), separator: viewRowsSeparator });
        for (let index = 0; index < count; index++) {
          if (!(await stream.row(JSON.stringify({ id: `d${index}`, key: `d${index}`, value: 'x'.repeat(1000) })))) return;
        }
        await stream.end(viewRowsTail);
      },
    },
  });
  router.addServerRoute('_live', {
    allowed: 'GET',
    access: 'public',
    methods: {
      GET: async (ctx) => {
        const stream = await RowStream.start(ctx, { head: '', separator: '' });
        await stream.write('line\n');
        await new Promise<void>((resolve) => {
          releaseLive = resolve;
        });
        await stream.end('end\n');
      },
    },
  });
  router.addServerRoute('_slow', {
    allowed: 'GET',
    access: 'public',
    methods: {
      GET: async (ctx) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        sendJson(ctx, 200, { slow: true });
      },
    },
  });
  router.addServerRoute('_boom', {
    allowed: 'GET',
    access: 'public',
    methods: {
      GET: () => {
        throw new TypeError('kaboom');
      },
    },
  });
  router.addDatabaseEndpoint('_thing', {
    allowed: 'GET',
    methods: { GET: (ctx) => sendJson(ctx, 200, { level: 'database-endpoint', segments: ctx.segments }) },
  });
  router.addDocumentRoute({
    allowed: 'GET,PUT',
    methods: { GET: (ctx) => sendJson(ctx, 200, { level: 'document', target: documentTarget(ctx.segments) }) },
  });
}

let server: TestServer;
before(async () => {
  server = await startTestServer({
    routeFamilies: [...baseFamilies, registerTestRoutes],
    config: { limits: { ...(await import('../../src/core/limits.js')).defaultLimits, requestBytesMax: 1024 } },
  });
});
after(async () => {
  await server.close();
});

test('JSON bodies: parsed, content type checked, malformed and invalid UTF-8 rejected', async () => {
  const ok = await server.request({ method: 'POST', path: '/_echo', body: { a: [1, 2.5, 'é'] } });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { body: { a: [1, 2.5, 'é'] }, segments: ['_echo'] });
  const withCharset = await server.request({
    method: 'POST',
    path: '/_echo',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: '{}',
  });
  assert.equal(withCharset.status, 200);
  const badType = await server.request({ method: 'POST', path: '/_echo', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
  assert.equal(badType.status, 415);
  assert.deepEqual(badType.json, { error: 'bad_content_type', reason: 'Content-Type must be application/json' });
  const noType = await server.request({ method: 'POST', path: '/_echo', body: Buffer.from('{}') });
  assert.equal(noType.status, 415);
  const invalidJson = { error: 'bad_request', reason: 'invalid UTF-8 JSON' };
  for (const raw of ['{"a":', '{"a":1}x', '[1,]', 'NaN', '', "{'a':1}", '"\\ud800"']) {
    const response = await server.request({ method: 'POST', path: '/_echo', headers: { 'Content-Type': 'application/json' }, body: raw });
    assert.equal(response.status, 400, raw);
    assert.deepEqual(response.json, invalidJson, raw);
  }
  const latin1 = await server.request({
    method: 'POST',
    path: '/_echo',
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from([0x22, 0xe9, 0x22]),
  });
  assert.deepEqual(latin1.json, invalidJson);
});

test('bodies over requestBytesMax → 413 too_large and the connection closes', async () => {
  const big = { data: 'x'.repeat(2000) };
  const response = await server.request({ method: 'POST', path: '/_echo', body: big });
  assert.equal(response.status, 413);
  assert.deepEqual(response.json, { error: 'too_large', reason: 'the request entity is too large' });
  assert.equal(response.headers['connection'], 'close');
  const chunked = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(server.baseUrl).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    const chunk = `{"a":"${'y'.repeat(600)}`;
    socket.write('POST /_echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  });
  assert.match(chunked, /^HTTP\/1\.1 413/);
});

test('path segments: + is a space, %2F stays inside a segment', async () => {
  const response = await server.request({ method: 'POST', path: '/_echo', body: {} });
  assert.deepEqual((response.json as { segments: string[] }).segments, ['_echo']);
  const doc = await server.request({ path: '/my+db/a%2Fb+c' });
  assert.deepEqual(doc.json, { level: 'document', target: { database: 'my db', docId: 'a/b c' } });
  const design = await server.request({ path: '/db/_design/x/att/deep' });
  assert.deepEqual(design.json, { level: 'document', target: { database: 'db', docId: '_design/x', attachment: 'att/deep' } });
  const local = await server.request({ path: '/db/_local/l1' });
  assert.deepEqual(local.json, { level: 'document', target: { database: 'db', docId: '_local/l1' } });
  const endpoint = await server.request({ path: '/db/_thing/more' });
  assert.deepEqual(endpoint.json, { level: 'database-endpoint', segments: ['db', '_thing', 'more'] });
  const unknownEndpoint = await server.request({ path: '/db/_nothing' });
  assert.deepEqual(unknownEndpoint.json, { error: 'not_found', reason: 'Database does not exist.' });
  const database = await server.request({ path: '/db' });
  assert.deepEqual(database.json, { error: 'not_found', reason: 'Database does not exist.' });
  const wrongMethod = await server.request({ method: 'DELETE', path: '/db/doc' });
  assert.deepEqual(wrongMethod.json, { error: 'method_not_allowed', reason: 'Only GET,PUT allowed' });
});

test('row streaming uses CouchDB framing, chunked', async () => {
  const empty = await server.request({ path: '/_rows?count=0' });
  assert.equal(empty.text, '{"total_rows":0,"offset":0,"rows":[\r\n\r\n]}\n');
  assert.equal(empty.headers['transfer-encoding'], 'chunked');
  assert.equal(empty.headers['content-type'], 'application/json');
  const two = await server.request({ path: '/_rows?count=2' });
  const x = 'x'.repeat(1000);
  assert.equal(
    two.text,
    `{"total_rows":2,"offset":0,"rows":[\r\n{"id":"d0","key":"d0","value":"${x}"},\r\n{"id":"d1","key":"d1","value":"${x}"}\r\n]}\n`,
  );
  const head = await server.request({ method: 'HEAD', path: '/_rows?count=2' });
  assert.equal(head.text, '');
  assert.equal(head.headers['content-length'], '0');
});

/** Raw HTTP/1.1 GET on a fresh connection: the de-chunked body and the size of each chunk. */
function getChunks(path: string, onData?: (received: string) => void): Promise<{ body: string; chunkSizes: number[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(server.baseUrl).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      onData?.(received);
    });
    socket.on('error', reject);
    socket.on('close', () => {
      let rest = received.slice(received.indexOf('\r\n\r\n') + 4);
      const chunkSizes: number[] = [];
      let body = '';
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (size === 0) break;
        chunkSizes.push(size);
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
      }
      resolve({ body: Buffer.from(body, 'latin1').toString('utf8'), chunkSizes });
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  });
}

test('row streams gather rows into large chunks, with the same bytes', async () => {
  const count = 300;
  const { body, chunkSizes } = await getChunks(`/_rows?count=${count}`);
  const x = 'x'.repeat(1000);
  const rows = Array.from({ length: count }, (_, index) => `{"id":"d${index}","key":"d${index}","value":"${x}"}`);
  assert.equal(body, `{"total_rows":${count},"offset":0,"rows":[\r\n${rows.join(',\r\n')}\r\n]}\n`);
  assert.ok(chunkSizes.length <= 8, `${chunkSizes.length} chunks for ${count} rows`);
  const small = await getChunks('/_rows?count=3');
  assert.equal(small.chunkSizes.length, 1, 'head, rows and tail in one chunk');
});

test('raw writes (heartbeats, continuous lines) reach the client at once', async () => {
  let sawLine: () => void = () => {};
  const lineSeen = new Promise<void>((resolve) => {
    sawLine = resolve;
  });
  const done = getChunks('/_live', (received) => {
    if (received.includes('line\n')) sawLine();
  });
  await lineSeen;
  while (releaseLive === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  releaseLive();
  releaseLive = undefined;
  assert.equal((await done).body, 'line\nend\n');
});

test('generated request ids are 10 hex digits and differ per request', async () => {
  const ids = new Set<string>();
  for (let index = 0; index < 20; index++) {
    const id = String((await server.request({ path: '/_up' })).headers['x-couch-request-id']);
    assert.match(id, /^[0-9a-f]{10}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 20);
});

test('a large stream to a slow reader respects backpressure and completes', async () => {
  const response = await server.request({ path: '/_rows?count=5000' });
  assert.equal(response.status, 200);
  const parsed = JSON.parse(response.text) as { rows: unknown[] };
  assert.equal(parsed.rows.length, 5000);
});

test('unexpected exceptions → 500 unknown_error, and the server keeps serving', async () => {
  const response = await server.request({ path: '/_boom' });
  assert.equal(response.status, 500);
  assert.deepEqual(response.json, { error: 'unknown_error', reason: 'kaboom' });
  assert.equal((await server.request({ path: '/_up' })).status, 200);
});

test('garbage on the socket gets a 400 and does not disturb the server', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(server.baseUrl).port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.write('THIS IS NOT HTTP\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.equal((await server.request({ path: '/_up' })).status, 200);
});

test('graceful shutdown finishes an in-flight request, then refuses new connections', async () => {
  const own = await startTestServer({ routeFamilies: [...baseFamilies, registerTestRoutes] });
  const inFlight = own.request({ path: '/_slow' });
  while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  const closed = own.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  release();
  release = undefined;
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, { slow: true });
  await closed;
  await assert.rejects(own.request({ path: '/_up' }), /ECONNREFUSED/);
});
