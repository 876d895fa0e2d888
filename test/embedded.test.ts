// The package entry point works as a library, as docs/engine.md shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Couch, SqliteEngine, docUpdateFromJson, parseJson, renderDoc } from '../src/index.js';

test('embedded use through the package entry point', async () => {
  const couch = new Couch({ engine: new SqliteEngine({ dataDir: ':memory:' }) });
  const db = await couch.createDatabase('notes');
  const { rev } = await db.updateDoc(docUpdateFromJson(parseJson('{"title":"hi","n":1.0}'), { id: 'a' }));
  assert.match(rev, /^1-[0-9a-f]{32}$/);
  const doc = await db.getDoc('a', { revs: true });
  assert.equal(renderDoc(doc), `{"_id":"a","_rev":"${rev}","title":"hi","n":1.0,"_revisions":{"start":1,"ids":["${rev.slice(2)}"]}}`);
  await couch.close();
});
