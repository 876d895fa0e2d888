/**
 * Thousands of live feeds across thousands of databases: each waiting
 * longpoll costs a closure and a timer, not a storage handle, so open SQLite
 * connections stay within `openDatabasesMax` while every feed answers when
 * its database changes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPasswordHash, hashPassword } from '../../src/auth/password-hash.js';
import { resolveConfig } from '../../src/config.js';
import { defaultLimits } from '../../src/core/limits.js';
import type { Database } from '../../src/db/database.js';
import { silentLogger } from '../../src/http/logger.js';
import type { RunningServer } from '../../src/server.js';
import { startServer } from '../../src/server.js';
import { SqliteEngine } from '../../src/storage/sqlite-engine.js';
import { testAdmin } from '../support/http.js';
import { eventually, openStream, putDoc } from './changes-helpers.js';

const databaseCount = 1_000;
const openDatabasesMax = 64;

let server: RunningServer;
let engine: SqliteEngine;
let dataDir: string;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'settee-many-feeds-'));
  const limits = { ...defaultLimits, openDatabasesMax };
  engine = new SqliteEngine({ dataDir, openDatabasesMax });
  const base = resolveConfig({ argv: ['--port', '0', '--data', dataDir], env: {}, cwd: process.cwd() });
  server = await startServer({
    config: {
      ...base,
      admins: new Map([[testAdmin.name, formatPasswordHash(await hashPassword(testAdmin.password, { iterations: 10 }))]]),
      secret: 'test-secret',
      serverUuid: '0123456789abcdef0123456789abcdef',
      passwordIterations: 10,
      limits,
    },
    logger: silentLogger,
    engine,
  });
});

after(async () => {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test(`${databaseCount} databases, one waiting longpoll each: all answer, storage handles stay bounded`, { timeout: 300_000 }, async () => {
  const couch = server.services.couch;
  const names = Array.from({ length: databaseCount }, (_, index) => `many_${String(index).padStart(4, '0')}`);
  const createStart = Date.now();
  for (const name of names) await couch.createDatabase(name);
  const createMs = Date.now() - createStart;

  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const openStart = Date.now();
  const streams = names.map((name) => openStream(server.address.url, `/${name}/_changes?feed=longpoll&since=now&timeout=300000`));
  const databases: Database[] = await Promise.all(names.map((name) => couch.database(name)));
  const waiting = (): number => databases.reduce((sum, db) => sum + db.notifier.waiting, 0);
  await eventually(() => waiting() === databaseCount, 60_000);
  const openMs = Date.now() - openStart;
  global.gc?.();
  const heapWaiting = process.memoryUsage().heapUsed;
  assert.ok(engine.openConnectionCount <= openDatabasesMax, `open connections ${engine.openConnectionCount}`);

  const writeStart = Date.now();
  const writes = databases.map((db, index) => putDoc(db, 'doc', `{"n":${index}}`));
  const bodies = await Promise.all(streams.map((stream) => stream.ended));
  await Promise.all(writes);
  const answerMs = Date.now() - writeStart;
  for (const body of bodies) {
    const feed = JSON.parse(body) as { results: { id: string }[]; last_seq: number };
    assert.deepEqual([feed.results.map((row) => row.id), feed.last_seq], [['doc'], 1]);
  }
  assert.equal(waiting(), 0);
  assert.ok(engine.openConnectionCount <= openDatabasesMax, `open connections ${engine.openConnectionCount}`);
  const perFeedBytes = Math.round((heapWaiting - heapBefore) / databaseCount);
  console.log(
    `many feeds: ${databaseCount} dbs created in ${createMs} ms; ${databaseCount} longpolls waiting after ${openMs} ms ` +
      `(heap +${((heapWaiting - heapBefore) / 1048576).toFixed(1)} MiB, ~${perFeedBytes} B/feed incl. client and server sockets); ` +
      `all answered ${answerMs} ms after the writes began; open SQLite connections ${engine.openConnectionCount}/${openDatabasesMax}`,
  );
});
