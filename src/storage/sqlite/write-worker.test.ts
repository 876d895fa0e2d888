/**
 * What only the write-worker mode of the SQLite engine promises (the shared
 * compliance suite runs against it too, in sqlite-engine.test.ts): reads see
 * acknowledged writes, deletes close the worker's file, errors come back as
 * errors, a dead worker fails its requests with 503 and is replaced, and
 * close drains.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCouchError } from '../../core/errors.js';
import { defaultProperties, firstRevision } from '../compliance/fixtures.js';
import { SqliteEngine } from '../sqlite-engine.js';

async function withEngine(action: (engine: SqliteEngine, dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'settee-worker-'));
  const engine = new SqliteEngine({ dataDir, writeWorker: true, openDatabasesMax: 8 });
  try {
    assert.equal(engine.writesInWorker, true);
    await action(engine, dataDir);
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function openFilesUnder(dir: string): string[] {
  const paths: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const path = readlinkSync(`/proc/self/fd/${fd}`);
      if (path.startsWith(dir)) paths.push(path);
    } catch {
      // closed while listing
    }
  }
  return paths;
}

test('worker mode: a read right after a write sees it, across many concurrent writes', async () => {
  await withEngine(async (engine) => {
    await engine.createDatabase('db', defaultProperties);
    const store = await engine.openDatabase('db');
    await Promise.all(
      Array.from({ length: 50 }, async (_, index) => {
        const written = await store.write({ docs: [firstRevision(`doc${index}`)] });
        const [record] = await store.getDocs([`doc${index}`]);
        assert.equal(record?.seq, written.seqs[0]);
      }),
    );
    assert.equal((await store.info()).docCount, 50);
  });
});

test('worker mode: deleting a database closes the worker file and later writes get 404', async () => {
  await withEngine(async (engine, dataDir) => {
    await engine.createDatabase('gone', defaultProperties);
    const store = await engine.openDatabase('gone');
    await store.write({ docs: [firstRevision('a')] });
    assert.ok(openFilesUnder(join(dataDir, 'shards')).length > 0);
    await engine.deleteDatabase('gone');
    assert.deepEqual(openFilesUnder(join(dataDir, 'shards')), []);
    await assert.rejects(store.write({ docs: [firstRevision('b')] }), (error) => isCouchError(error) && error.status === 404);
    await assert.rejects(store.putLocal({ id: '_local/x', rev: 1, json: '{}' }), (error) => isCouchError(error) && error.status === 404);
    await engine.createDatabase('gone', defaultProperties);
    const again = await engine.openDatabase('gone');
    assert.equal((await again.write({ docs: [firstRevision('c')] })).updateSeq, 1);
  });
});

test('worker mode: an engine error in the worker rejects the write, and the worker goes on', async () => {
  await withEngine(async (engine, dataDir) => {
    await engine.createDatabase('db', defaultProperties);
    const store = await engine.openDatabase('db');
    await store.write({ docs: [firstRevision('a')] });
    // A file removed behind the engine's back: the worker cannot reopen it once closed.
    await engine.createDatabase('vanished', defaultProperties);
    const vanished = await engine.openDatabase('vanished');
    const shards = join(dataDir, 'shards');
    for (const shard of readdirSync(shards)) {
      for (const file of readdirSync(join(shards, shard))) if (file.startsWith('vanished.')) rmSync(join(shards, shard, file));
    }
    await assert.rejects(vanished.write({ docs: [firstRevision('x')] }));
    assert.equal((await store.write({ docs: [firstRevision('b')] })).updateSeq, 2);
  });
});

test('worker mode: a dead worker fails its requests with 503 and a new one takes over', async () => {
  await withEngine(async (engine) => {
    await engine.createDatabase('db', defaultProperties);
    const store = await engine.openDatabase('db');
    await store.write({ docs: [firstRevision('before')] });
    const killed = engine.killWriteWorkerForTests();
    const during = store.write({ docs: [firstRevision('during')] });
    await killed;
    await assert.rejects(during, (error) => isCouchError(error) && error.status === 503);
    const after = await store.write({ docs: [firstRevision('after')] });
    assert.ok(after.updateSeq >= 2);
    const [record] = await store.getDocs(['after']);
    assert.equal(record?.seq, after.seqs[0]);
  });
});

test('worker mode: close waits for writes in flight', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'settee-worker-'));
  try {
    let engine = new SqliteEngine({ dataDir, writeWorker: true });
    await engine.createDatabase('db', defaultProperties);
    const store = await engine.openDatabase('db');
    const writes = Array.from({ length: 20 }, (_, index) => store.write({ docs: [firstRevision(`d${index}`)] }));
    await engine.close();
    await Promise.all(writes);
    engine = new SqliteEngine({ dataDir, writeWorker: true });
    assert.equal((await (await engine.openDatabase('db')).info()).docCount, 20);
    await engine.close();
    assert.equal(existsSync(dataDir), true);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
