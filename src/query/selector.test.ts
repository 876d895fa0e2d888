import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCouchError } from '../core/errors.js';
import { parseJson } from '../core/json-parse.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json-value.js';
import { matchesSelector, parseSelector } from './selector.js';

const json = (text: string): JsonValue => parseJson(text);
const object = (text: string): JsonObject => {
  const value = json(text);
  assert.ok(isJsonObject(value));
  return value;
};
const selector = (text: string) => parseSelector(object(text));

/** The documents of the mango_operators_* golden transcripts. */
const people: JsonObject[] = [
  '{"_id":"p01","name":"Alice","age":31,"city":"Berlin","tags":["a","b"],"score":7.5,"active":true}',
  '{"_id":"p02","name":"Bob","age":25,"city":"Paris","tags":["b"],"score":5,"active":false}',
  '{"_id":"p03","name":"Carol","age":42,"city":"Berlin","tags":[],"score":9,"active":true,"email":"carol@example.com"}',
  '{"_id":"p04","name":"Dave","age":25,"city":"Rome","tags":["c","a","d"],"active":true}',
  '{"_id":"p05","name":"Eve","age":19,"city":"Paris","tags":["a"],"score":3.25,"active":null}',
  '{"_id":"p06","name":"frank","age":58,"city":"Berlin","tags":["b","c"],"score":8,"pets":[{"kind":"cat","age":3},{"kind":"dog","age":9}]}',
  '{"_id":"p07","name":"Grace","age":"unknown","city":"Oslo","tags":["x"],"score":6}',
  '{"_id":"p08","name":"Heidi","age":37,"tags":["a","b","c"],"score":4,"pets":[{"kind":"dog","age":2}]}',
].map(object);

const ids = (text: string): string[] => {
  const parsed = selector(text);
  return people.filter((doc) => matchesSelector(parsed, doc)).map((doc) => doc['_id'] as string);
};

function rejects(text: string, error: string, reason: string): void {
  assert.throws(
    () => selector(text),
    (thrown: unknown) => isCouchError(thrown) && thrown.status === 400 && thrown.error === error && thrown.reason === reason,
    `${text} → ${error}: ${reason}`,
  );
}

test('mango_operators_compare: equality, ranges across types, $ne, $in, $nin, arrays', () => {
  assert.deepEqual(ids('{"city":"Berlin"}'), ['p01', 'p03', 'p06']);
  assert.deepEqual(ids('{"age":{"$eq":25}}'), ['p02', 'p04']);
  assert.deepEqual(ids('{"age":{"$gt":30}}'), ['p01', 'p03', 'p06', 'p07', 'p08'], 'strings sort after numbers');
  assert.deepEqual(ids('{"age":{"$gte":25,"$lt":40}}'), ['p01', 'p02', 'p04', 'p08']);
  assert.deepEqual(ids('{"age":{"$lte":19}}'), ['p05']);
  assert.deepEqual(ids('{"age":{"$gt":"a"}}'), ['p07']);
  assert.deepEqual(ids('{"city":{"$ne":"Berlin"}}'), ['p02', 'p04', 'p05', 'p07'], '$ne skips p08, which has no city');
  assert.deepEqual(ids('{"city":{"$in":["Rome","Oslo","Nowhere"]}}'), ['p04', 'p07']);
  assert.deepEqual(ids('{"city":{"$nin":["Berlin","Paris"]}}'), ['p04', 'p07']);
  assert.deepEqual(ids('{"tags":"a"}'), [], 'equality does not look into arrays');
  assert.deepEqual(ids('{"active":null}'), ['p05']);
  assert.deepEqual(ids('{"score":{"$gt":5}}'), ['p01', 'p03', 'p06', 'p07']);
});

test('mango_operators_elemmatch: $elemMatch, $allMatch, array indexes in paths', () => {
  assert.deepEqual(ids('{"tags":{"$elemMatch":{"$eq":"c"}}}'), ['p04', 'p06', 'p08']);
  assert.deepEqual(ids('{"pets":{"$elemMatch":{"kind":"dog","age":{"$gt":5}}}}'), ['p06']);
  assert.deepEqual(ids('{"pets":{"$allMatch":{"kind":"dog"}}}'), ['p08']);
  assert.deepEqual(ids('{"pets.0.kind":"cat"}'), ['p06']);
  assert.deepEqual(ids('{"tags":{"$elemMatch":{"$in":["x","d"]}}}'), ['p04', 'p07']);
  assert.deepEqual(ids('{"tags":{"$elemMatch":{}}}'), []);
});

test('$exists, $type, $size, $mod, $regex, $beginsWith, $all, $keyMapMatch', () => {
  assert.deepEqual(ids('{"email":{"$exists":true}}'), ['p03']);
  assert.equal(ids('{"email":{"$exists":false}}').length, 7);
  assert.deepEqual(ids('{"age":{"$type":"string"}}'), ['p07']);
  assert.deepEqual(ids('{"tags":{"$size":3}}'), ['p04', 'p08']);
  assert.deepEqual(ids('{"age":{"$mod":[5,0]}}'), ['p02', 'p04']);
  assert.deepEqual(ids('{"name":{"$regex":"^[A-C]"}}'), ['p01', 'p02', 'p03']);
  assert.deepEqual(ids('{"name":{"$beginsWith":"Gr"}}'), ['p07']);
  assert.deepEqual(ids('{"tags":{"$all":["a","b"]}}'), ['p01', 'p08']);
  assert.deepEqual(ids('{"pets":{"$elemMatch":{"$keyMapMatch":{"$eq":"kind"}}}}'), ['p06', 'p08']);
  const mod = selector('{"n":{"$mod":[28,1]}}');
  for (const [n, expected] of [[1, true], [29, true], [57, true], [58, false], ['57', false], [-27, false], [1.0, true]] as const) {
    assert.equal(matchesSelector(mod, { n }), expected, `$mod ${n}`);
  }
  assert.equal(matchesSelector(mod, json('{"n":29.0}')), false, 'a float is not an integer');
  assert.equal(matchesSelector(selector('{"n":{"$mod":[3,-1]}}'), { n: -4 }), true, 'rem takes the sign of the dividend');
  assert.equal(matchesSelector(selector('{"n":{"$mod":[0,0]}}'), { n: 4 }), false);
});

test('$all: exact membership, and the single-array form', () => {
  const all = selector('{"x":{"$all":[[1,2,3,4]]}}');
  assert.equal(matchesSelector(all, { x: [1, 2, 3, 4] }), true);
  assert.equal(matchesSelector(all, { x: [4, 3, 2, 1] }), false);
  assert.equal(matchesSelector(all, { x: [5, [1, 2, 3, 4], 6] }), true);
  assert.equal(matchesSelector(selector('{"x":{"$all":[]}}'), { x: [] }), false);
  assert.equal(matchesSelector(selector('{"x":{"$all":["hello"]}}'), { x: 'hello' }), false);
  assert.equal(matchesSelector(selector('{"x":{"$all":[1]}}'), json('{"x":[1.0]}') as JsonObject), false, '=:= tells 1 from 1.0');
  assert.equal(matchesSelector(selector('{"x":{"$all":[{"a":1}]}}'), { x: [{ a: 1, b: 2 }] }), false);
});

test('$in and $nin on arrays match items', () => {
  const inSelector = selector('{"x":{"$in":[42,false,"bar",[["nested"],"list"],{"b":2}]}}');
  const cases: [JsonValue, boolean][] = [
    [42, true], [false, true], ['bar', true], [{ b: 2 }, true], [43, false], [true, false], [{ b: 2, c: 3 }, false],
    [[0, 42], true], [[['nested'], 'list'], false], [[0, [['nested'], 'list']], true],
  ];
  const ninSelector = selector('{"x":{"$nin":[42,false,"bar",[["nested"],"list"],{"b":2}]}}');
  for (const [x, expected] of cases) {
    assert.equal(matchesSelector(inSelector, { x }), expected, `$in ${JSON.stringify(x)}`);
    assert.equal(matchesSelector(ninSelector, { x }), !expected, `$nin ${JSON.stringify(x)}`);
  }
  assert.equal(matchesSelector(selector('{"x":{"$in":[]}}'), { x: 1 }), false);
  assert.equal(matchesSelector(selector('{"x":{"$nin":[]}}'), { x: 1 }), true);
});

test('negation is pushed down: negated conditions still need the field', () => {
  assert.equal(matchesSelector(selector('{"$not":{"x":5}}'), {}), false);
  assert.equal(matchesSelector(selector('{"x":{"$not":{"$eq":0}}}'), {}), false);
  assert.equal(matchesSelector(selector('{"x":{"$not":{"$exists":true,"$eq":0}}}'), {}), true);
  assert.equal(matchesSelector(selector('{"x":{"$not":{"$exists":true,"$eq":0}}}'), { x: 0 }), false);
  assert.equal(matchesSelector(selector('{"x":{"$not":{"$and":[]}}}'), {}), true, '$not $and [] → $or [] (matches all)');
  assert.equal(matchesSelector(selector('{"x":{"$nor":[{"$lt":3},{"$gt":7}]}}'), { x: 6 }), true);
  assert.equal(matchesSelector(selector('{"x":{"$nor":[{"$lt":3},{"$gt":7}]}}'), {}), false);
  assert.equal(matchesSelector(selector('{"x":{"$not":{"$regex":"^a"}}}'), { x: 'b' }), true);
  assert.equal(matchesSelector(selector('{"x":{"$not":{"$regex":"^a"}}}'), {}), false);
  // Inside $elemMatch the $not is not normalised: plain negation.
  const inner = selector('{"a":{"$elemMatch":{"$not":{"b":1}}}}');
  assert.equal(matchesSelector(inner, { a: [{ c: 1 }] }), true);
  assert.equal(matchesSelector(inner, { a: [{ b: 1 }] }), false);
});

test('objects in selectors are paths; dotted and escaped field names', () => {
  const doc = object('{"x":{"a":1,"b":2},"a.b":3,"y":{}}');
  assert.equal(matchesSelector(selector('{"x":{"a":1}}'), doc), true, 'a sub-object selector matches at least those members');
  assert.equal(matchesSelector(selector('{"x.b":2}'), doc), true);
  assert.equal(matchesSelector(selector('{"a\\\\.b":3}'), doc), true);
  assert.equal(matchesSelector(selector('{"a.b":3}'), doc), false);
  assert.equal(matchesSelector(selector('{"y":{}}'), doc), true, 'an empty object is equality with {}');
  assert.equal(matchesSelector(selector('{"x":{}}'), doc), false);
  assert.equal(matchesSelector(selector('{}'), doc), true);
  assert.equal(matchesSelector(selector('{"x.a.q":{"$exists":false}}'), doc), false, 'a path through a number is a bad path');
  assert.equal(matchesSelector(selector('{"x.q":{"$exists":false}}'), doc), true);
});

test('_id compares in raw term order, other fields by collation', () => {
  const doc = { _id: 'a', name: 'a' };
  assert.equal(matchesSelector(selector('{"_id":{"$lt":"B"}}'), doc), false, 'bytewise: "a" > "B"');
  assert.equal(matchesSelector(selector('{"name":{"$lt":"B"}}'), doc), true, 'ICU: "a" < "B"');
  assert.equal(matchesSelector(selector('{"_id":{"$gt":5}}'), doc), true, 'binaries sort after numbers');
  assert.equal(matchesSelector(selector('{"_id":{"$gt":{"z":1}}}'), doc), true, 'raw: binaries after tuples');
  assert.equal(matchesSelector(selector('{"name":{"$gt":{"z":1}}}'), doc), false, 'collation: strings before objects');
});

test('tombstones match on _deleted', () => {
  const tombstone = { _id: 'b', _rev: '2-x', _deleted: true };
  assert.equal(matchesSelector(selector('{"_deleted":true}'), tombstone), true);
  assert.equal(matchesSelector(selector('{"_deleted":true}'), { _id: 'a', _rev: '1-x', type: 'x' }), false);
});

test('CouchDB error reasons, with Erlang terms', () => {
  rejects('{"a":{"$in":"no"}}', 'bad_arg', 'Bad argument for operator $in: <<110,111>>');
  rejects('{"$and":{"a":1}}', 'bad_arg', 'Bad argument for operator $and: {[{<<97>>,1}]}');
  rejects('{"a":{"$regex":"["}}', 'bad_arg', 'Bad argument for operator $regex: <<91>>');
  rejects('{"a":{"$size":-1}}', 'bad_arg', 'Bad argument for operator $size: -1');
  rejects('{"a":{"$size":1.0}}', 'bad_arg', 'Bad argument for operator $size: 1.0');
  rejects('{"a":{"$mod":[2]}}', 'bad_arg', 'Bad argument for operator $mod: [2]');
  rejects('{"a":{"$exists":1}}', 'bad_arg', 'Bad argument for operator $exists: 1');
  rejects('{"a":{"$type":1}}', 'bad_arg', 'Bad argument for operator $type: 1');
  rejects('{"a":{"$elemMatch":[1]}}', 'bad_arg', 'Bad argument for operator $elemMatch: [1]');
  rejects('{"$not":1}', 'bad_arg', 'Bad argument for operator $not: 1');
  rejects('{"a":{"$regex":1}}', 'invalid_operator', 'Invalid operator: $regex');
  rejects('{"a":{"$bogus":1}}', 'invalid_operator', 'Invalid operator: $bogus');
  rejects('{"a":{"$where":"x"}}', 'not_supported', 'Unsupported operator: $where');
  rejects('{"$gt":1}', 'invalid_selector', 'One or more conditions is missing a field name.');
  rejects('{"a..b":1}', 'invalid_field_name', 'Invalid field name: a..b');
  rejects('{"a":{"$text":"x"}}', 'bad_field', 'Invalid field normalization on selector: {[{<<36,100,101,102,97,117,108,116>>,{[{<<36,116,101,120,116>>,<<120>>}]}}]}');
  rejects('{"$not":{"$text":"x"}}', 'bad_arg', 'Bad argument for operator $not: {[{<<36,100,101,102,97,117,108,116>>,{[{<<36,116,101,120,116>>,<<120>>}]}}]}');
});

test('$text at the root needs a text index; matching lets everything through', () => {
  assert.equal(matchesSelector(selector('{"$text":"anything"}'), {}), true);
});
