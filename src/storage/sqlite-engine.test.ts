/**
 * The SQLite engine: the shared compliance suite (on disk and in memory), then
 * what only this engine promises — bounded open connections, the catalog, the
 * file layout and crash reconciliation.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { runEngineCompliance } from './compliance.js';
import { defaultProperties, firstRevision, hash, linearTree, docWrite, body } from './compliance/fixtures.js';
import { SqliteEngine } from './sqlite-engine.js';
import { databaseSchemaVersion } from './sqlite/schema.js';

function temporaryDir(): string {
  return mkdtempSync(join(tmpdir(), 'settee-sqlite-'));
}

runEngineCompliance('sqlite (files)', async () => {
  const dataDir = temporaryDir();
  let engine = new SqliteEngine({ dataDir });
  return {
    engine,
    async reopen() {
      await engine.close();
      engine = new SqliteEngine({ dataDir });
      return engine;
    },
    async cleanup() {
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

runEngineCompliance('sqlite (files, write worker)', async () => {
  const dataDir = temporaryDir();
  let engine = new SqliteEngine({ dataDir, writeWorker: true });
  return {
    engine,
    async reopen() {
      await engine.close();
      engine = new SqliteEngine({ dataDir, writeWorker: true });
      return engine;
    },
    async cleanup() {
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});

runEngineCompliance('sqlite (memory)', async () => {
  const engine = new SqliteEngine({ dataDir: ':memory:' });
  return { engine, cleanup: () => engine.close() };
});

/** Paths of this process's open file descriptors. */
function openFiles(): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      paths.push(readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed while listing
    }
  }
  return paths;
}

async function withDataDir(action: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = temporaryDir();
  try {
    await action(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('the LRU keeps at most openDatabasesMax connections and reopens evicted ones transparently', async () => {
  await withDataDir(async (dataDir) => {
    const engine = new SqliteEngine({ dataDir, openDatabasesMax: 3 });
    try {
      const names = Array.from({ length: 20 }, (_, index) => `db-${index}`);
      for (const name of names) await engine.createDatabase(name, defaultProperties);
      assert.ok(engine.openConnectionCount <= 3);
      const stores = await Promise.all(names.map((name) => engine.openDatabase(name)));
      for (let round = 0; round < 3; round += 1) {
        for (const [index, store] of stores.entries()) {
          await store.write({ docs: [firstRevision(`r${round}-${index}`)] });
          assert.ok(engine.openConnectionCount <= 3, `open: ${engine.openConnectionCount}`);
        }
      }
      for (const [index, store] of stores.entries()) {
        const info = await store.info();
        assert.equal(info.updateSeq, 3);
        assert.deepEqual(
          (await store.scanDocs({ limit: 10 })).map((record) => record.id),
          [0, 1, 2].map((round) => `r${round}-${index}`),
        );
      }
      assert.ok(engine.openConnectionCount <= 3);
    } finally {
      await engine.close();
    }
    assert.equal(openFiles().filter((path) => path.startsWith(dataDir)).length, 0, 'close releases every file');
  });
});

test('an evicted database holds no file descriptor', async () => {
  await withDataDir(async (dataDir) => {
    const engine = new SqliteEngine({ dataDir, openDatabasesMax: 1 });
    try {
      await engine.createDatabase('idle', defaultProperties);
      const idle = await engine.openDatabase('idle');
      await idle.write({ docs: [firstRevision('a')] });
      const shards = join(dataDir, 'shards');
      assert.ok(openFiles().filter((path) => path.startsWith(shards)).length >= 1);
      await engine.createDatabase('busy', defaultProperties);
      const busy = await engine.openDatabase('busy');
      await busy.write({ docs: [firstRevision('b')] });
      const open = openFiles().filter((path) => path.startsWith(shards));
      assert.equal(open.filter((path) => path.includes('/idle.')).length, 0, open.join('\n'));
      assert.equal(engine.openConnectionCount, 1);
      assert.equal((await idle.info()).docCount, 1); // and it reopens on demand
    } finally {
      await engine.close();
    }
  });
});

test('2,000 databases are created and listed quickly', async () => {
  await withDataDir(async (dataDir) => {
    const engine = new SqliteEngine({ dataDir, openDatabasesMax: 50 });
    try {
      const count = 2000;
      const names = Array.from({ length: count }, (_, index) => `db/${String(index).padStart(5, '0')}`);
      const started = performance.now();
      for (const name of names) await engine.createDatabase(name, defaultProperties);
      const created = performance.now();
      const listed = await engine.listDatabases();
      const page = await engine.listDatabases({ startKey: 'db/01000', limit: 10 });
      const finished = performance.now();
      assert.equal(listed.length, count);
      assert.deepEqual(listed, names);
      assert.deepEqual(page, names.slice(1000, 1010));
      assert.ok(engine.openConnectionCount <= 50);
      console.log(
        `# ${count} databases: create ${((created - started) / count).toFixed(2)} ms each, list all ${(finished - created).toFixed(1)} ms`,
      );
      assert.ok(finished - created < 500, 'listing is a catalog query');
    } finally {
      await engine.close();
    }
  });
});

test('database files live in shards with escaped names and vanish on delete', async () => {
  await withDataDir(async (dataDir) => {
    const engine = new SqliteEngine({ dataDir });
    try {
      await engine.createDatabase('a/b$(c)+d', defaultProperties);
      const store = await engine.openDatabase('a/b$(c)+d');
      await store.write({ docs: [firstRevision('x')] });
      const shardDirs = readdirSync(join(dataDir, 'shards'));
      assert.equal(shardDirs.length, 1);
      assert.match(shardDirs[0] ?? '', /^[0-9a-f]{2}$/);
      const shard = join(dataDir, 'shards', shardDirs[0] ?? '');
      const files = readdirSync(shard);
      assert.ok(files.some((file) => /^a=2fb=24=28c=29=2bd\.[0-9a-z]+\.sqlite$/.test(file)), files.join(','));
      assert.ok((await store.info()).fileBytes > 0);
      await engine.deleteDatabase('a/b$(c)+d');
      assert.deepEqual(readdirSync(shard), []);
    } finally {
      await engine.close();
    }
  });
});

test('startup removes files a crash left between catalog and disk', async () => {
  await withDataDir(async (dataDir) => {
    let engine = new SqliteEngine({ dataDir });
    await engine.createDatabase('half-created', defaultProperties);
    await engine.createDatabase('half-deleted', defaultProperties);
    await engine.createDatabase('kept', defaultProperties);
    await engine.close();
    // Simulate crashes: a create that never reached its catalog row, and a
    // delete that committed its catalog change but never unlinked the file.
    const catalog = new Database(join(dataDir, '_catalog.sqlite'));
    const files = catalog.prepare('SELECT name, file FROM dbs').all() as { name: string; file: string }[];
    const fileOf = (name: string): string => files.find((row) => row.name === name)?.file ?? '';
    for (const name of ['half-created', 'half-deleted']) {
      catalog.prepare('DELETE FROM dbs WHERE name = ?').run(name);
      catalog.prepare('INSERT INTO orphans (file) VALUES (?)').run(fileOf(name));
    }
    catalog.close();
    assert.ok(existsSync(join(dataDir, fileOf('half-created'))));
    engine = new SqliteEngine({ dataDir });
    try {
      assert.deepEqual(await engine.listDatabases(), ['kept']);
      assert.equal(existsSync(join(dataDir, fileOf('half-created'))), false);
      assert.equal(existsSync(join(dataDir, fileOf('half-deleted'))), false);
      assert.equal(existsSync(join(dataDir, fileOf('kept'))), true);
      await engine.createDatabase('half-created', defaultProperties);
      assert.equal((await (await engine.openDatabase('half-created')).info()).updateSeq, 0);
    } finally {
      await engine.close();
    }
  });
});

test('database files use WAL, incremental vacuum and a schema version', async () => {
  await withDataDir(async (dataDir) => {
    const engine = new SqliteEngine({ dataDir });
    await engine.createDatabase('shape', defaultProperties);
    await engine.close();
    const catalog = new Database(join(dataDir, '_catalog.sqlite'), { readonly: true });
    const file = (catalog.prepare('SELECT file FROM dbs').get() as { file: string }).file;
    catalog.close();
    const db = new Database(join(dataDir, file), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
      assert.equal(db.pragma('user_version', { simple: true }), databaseSchemaVersion);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });
});

test('compaction hands the space of dropped bodies back to the file system', async () => {
  await withDataDir(async (dataDir) => {
    const engine = new SqliteEngine({ dataDir });
    try {
      await engine.createDatabase('big', defaultProperties);
      const store = await engine.openDatabase('big');
      const filler = 'z'.repeat(100_000);
      for (let doc = 0; doc < 5; doc += 1) {
        const id = `doc${doc}`;
        const hashes: string[] = [];
        for (let generation = 1; generation <= 6; generation += 1) {
          hashes.unshift(hash(`${id}-${generation}`));
          const rev = `${generation}-${hashes[0]}`;
          await store.write({
            docs: [docWrite({ id, tree: linearTree(generation, hashes), winningRev: rev, newBodies: [body(rev, { filler })] })],
          });
        }
      }
      const before = await store.info();
      await store.compact();
      const after = await store.info();
      assert.ok(after.fileBytes < before.fileBytes / 2, `${before.fileBytes} -> ${after.fileBytes}`);
      assert.ok(after.activeBytes > 5 * 100_000);
      console.log(`# compaction: ${before.fileBytes} -> ${after.fileBytes} bytes`);
    } finally {
      await engine.close();
    }
  });
});
