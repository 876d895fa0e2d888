import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ConnectionPool } from './pool.js';

test('the pool evicts the least recently used connection beyond its bound', () => {
  const pool = new ConnectionPool({ openConnectionsMax: 2, evictable: true });
  const opened: Database.Database[] = [];
  const open = () => {
    const db = new Database(':memory:');
    opened.push(db);
    return db;
  };
  pool.use('a', open, () => undefined);
  pool.use('b', open, () => undefined);
  pool.use('a', open, () => undefined); // a is now the most recent
  pool.use('c', open, () => undefined); // evicts b
  assert.equal(pool.size, 2);
  assert.equal(pool.has('b'), false);
  assert.equal(opened[1]?.open, false);
  assert.equal(opened[0]?.open, true);
  pool.closeAll();
  assert.ok(opened.every((db) => !db.open));
});

test('a connection in use is never evicted; the pool shrinks back once released', () => {
  const pool = new ConnectionPool({ openConnectionsMax: 1, evictable: true });
  const open = () => new Database(':memory:');
  pool.use('a', open, (a) => {
    pool.use('b', open, (b) => {
      pool.use('c', open, (c) => {
        assert.equal(pool.size, 3);
        for (const connection of [a, b, c]) assert.equal(connection.db.open, true);
      });
    });
  });
  pool.use('d', open, () => undefined);
  assert.equal(pool.size, 1);
  assert.equal(pool.has('d'), true);
  pool.closeAll();
});

test('prepared statements are cached per connection', () => {
  const pool = new ConnectionPool({ openConnectionsMax: 1, evictable: false });
  pool.use('a', () => new Database(':memory:'), (connection) => {
    assert.equal(connection.statement('SELECT 1'), connection.statement('SELECT 1'));
  });
  pool.closeAll();
});

test('a pool that may not evict (in-memory databases) keeps every connection', () => {
  const pool = new ConnectionPool({ openConnectionsMax: 1, evictable: false });
  for (const key of ['a', 'b', 'c']) pool.use(key, () => new Database(':memory:'), () => undefined);
  assert.equal(pool.size, 3);
  pool.closeAll();
  assert.equal(pool.size, 0);
});
