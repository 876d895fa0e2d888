/**
 * Mixed fleets: CouchDB's replicator (and PouchDB's) keeps connections to a
 * peer in a pool and reuses them after pauses. Node's default 5 s
 * `keepAliveTimeout` closed idle sockets under them, which broke replication
 * from pouchdb-server. Settee, started by its CLI, must keep an idle
 * keep-alive connection open well past 5 s and serve the next request on it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ChildServer } from '../support/child-server.js';
import { childAdmin, startChildServer } from '../support/child-server.js';
import { basicAuth } from '../support/http.js';

const idleMs = 6_000;

let server: ChildServer;
before(async () => {
  server = await startChildServer();
});
after(async () => {
  const code = await server.stop();
  assert.equal(code, 0, server.stderr());
});

interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly socket: Socket;
  readonly reusedSocket: boolean;
}

function exchange(agent: Agent, method: string, path: string, body?: string): Promise<Exchange> {
  const url = new URL(server.baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: {
          Authorization: basicAuth(`${childAdmin.name}:${childAdmin.password}`),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }),
        },
      },
      (response) => {
        // the agent takes the socket back once the response ends: note it now
        const socket = response.socket;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            socket,
            reusedSocket: request.reusedSocket,
          }),
        );
      },
    );
    request.setTimeout(10_000, () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on('error', reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

test(`an idle keep-alive connection survives ${idleMs / 1000} s and serves the next requests`, async () => {
  // one socket only, kept alive by the client far longer than the idle time
  const agent = new Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: 60_000 });
  try {
    const first = await exchange(agent, 'GET', '/');
    assert.equal(first.status, 200, first.text);
    assert.notEqual(String(first.headers['connection']).toLowerCase(), 'close');
    const keepAlive = /timeout=(\d+)/.exec(String(first.headers['keep-alive'] ?? ''));
    if (keepAlive) assert.ok(Number(keepAlive[1]) >= 60, `Keep-Alive header advertises ${first.headers['keep-alive']}`);
    const socket = first.socket;
    let closedAt: number | undefined;
    socket.once('close', () => (closedAt = Date.now()));
    const idleStarted = Date.now();

    await new Promise((resolve) => setTimeout(resolve, idleMs));
    assert.equal(closedAt, undefined, `the server closed the idle connection after ${(closedAt ?? 0) - idleStarted} ms`);

    const second = await exchange(agent, 'GET', '/_up');
    assert.equal(second.status, 200, second.text);
    assert.equal(second.reusedSocket, true, 'the second request went over a new connection');
    assert.equal(second.socket, socket, 'the second request used another socket');

    // a write and a read on the same connection, as a replicator would do next
    const database = `keepalive-${process.pid}`;
    const created = await exchange(agent, 'PUT', `/${database}`);
    assert.equal(created.status, 201, created.text);
    const written = await exchange(agent, 'PUT', `/${database}/doc`, '{"n":1}');
    assert.equal(written.status, 201, written.text);
    const read = await exchange(agent, 'GET', `/${database}/doc`);
    assert.equal(read.status, 200, read.text);
    // error replies keep the connection too (replicators reuse it after a 404 or 409)
    const missing = await exchange(agent, 'GET', `/${database}/missing`);
    assert.equal(missing.status, 404, missing.text);
    const conflict = await exchange(agent, 'PUT', `/${database}/doc`, '{"n":2}');
    assert.equal(conflict.status, 409, conflict.text);
    const after = await exchange(agent, 'GET', '/_up');
    assert.equal(after.status, 200, after.text);
    for (const later of [created, written, read, missing, conflict, after]) {
      assert.equal(later.socket, socket, 'all requests share the one socket');
    }
  } finally {
    agent.destroy();
  }
});
