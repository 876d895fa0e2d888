/** Reading view parameters (`http/view-params.ts`) and checking them against a view, with CouchDB's error texts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCouchError } from '../core/errors.js';
import { QueryParams } from '../http/query.js';
import { collectViewParams } from '../http/view-params.js';
import { type ViewQuery, validateViewQuery } from './params.js';
import { docIdMax, docIdMin } from './row-order.js';

function query(text: string, options: { reduce?: boolean; body?: Record<string, unknown> } = {}): ViewQuery {
  const collected = collectViewParams(new QueryParams(text), {
    singleKeyAsKey: true,
    ...(options.body !== undefined ? { body: options.body as never } : {}),
  });
  return validateViewQuery(collected, { hasReduce: options.reduce ?? false });
}

function failure(run: () => unknown): { status: number; error: string; reason: string; ref?: number } | undefined {
  try {
    run();
  } catch (error) {
    if (!isCouchError(error)) throw error;
    return error.ref === undefined
      ? { status: error.status, error: error.error, reason: error.reason }
      : { status: error.status, error: error.error, reason: error.reason, ref: error.ref };
  }
  return undefined;
}

const parseError = (reason: string) => ({ status: 400, error: 'query_parse_error', reason });

test('defaults: ascending, every id at both ends, reduce when the view has one', () => {
  const map = query('');
  assert.equal(map.reduce, false);
  assert.equal(map.groupLevel, 0);
  assert.equal(map.startDocId, docIdMin);
  assert.equal(map.endDocId, docIdMax);
  assert.equal(map.update, 'true');
  const descending = query('descending=true');
  assert.equal(descending.startDocId, docIdMax);
  assert.equal(descending.endDocId, docIdMin);
  assert.equal(query('', { reduce: true }).reduce, true);
  assert.equal(query('reduce=false', { reduce: true }).reduce, false);
  assert.equal(query('group=true', { reduce: true }).groupLevel, 'exact');
  assert.equal(query('group=true&group_level=1', { reduce: true }).groupLevel, 1);
  assert.equal(query('stale=ok').update, 'false');
  assert.equal(query('stale=update_after').update, 'lazy');
  assert.equal(query('update=lazy&sorted=false&stable=true').update, 'lazy');
});

test('keys: one key is a key range, several keep their order (reversed when descending)', () => {
  const single = query('keys=["b"]');
  assert.deepEqual([single.keys, single.startKey, single.endKey], [undefined, 'b', 'b']);
  assert.deepEqual(query('key="a"&keys=["b"]').startKey, 'b');
  assert.deepEqual(query('keys=["a","b"]').keys, ['a', 'b']);
  assert.deepEqual(query('keys=["a","b"]&descending=true').keys, ['b', 'a']);
  assert.deepEqual(query('', { body: { keys: ['x', 'y'], limit: 2, descending: true } }).limit, 2);
  // the query string wins over the body
  assert.deepEqual(query('limit=1', { body: { keys: ['x', 'y'], limit: 2 } }).limit, 1);
  assert.deepEqual(query('', { body: { keys: ['x'] } }).startKey, 'x');
  assert.equal(query('startkey_docid=%22d2%22').startDocId, '"d2"');
});

test('malformed parameters', () => {
  assert.deepEqual(failure(() => query('key=nope')), { status: 400, error: 'bad_request', reason: 'invalid UTF-8 JSON' });
  assert.deepEqual(failure(() => query('limit=-5')), parseError('Invalid value for positive integer: "-5"'));
  assert.deepEqual(failure(() => query('skip=abc')), parseError('Invalid value for integer: "abc"'));
  assert.deepEqual(failure(() => query('descending=maybe')), parseError('Invalid boolean parameter: "maybe"'));
  assert.deepEqual(failure(() => query('update=bogus')), parseError('Invalid value for `update`.'));
  assert.deepEqual(failure(() => query('stale=bogus')), parseError('Invalid value for `stale`.'));
  assert.deepEqual(failure(() => query('sorted=1')), parseError('Invalid boolean parameter: "1"'));
});

test('parameters that do not fit the view, in CouchDB order', () => {
  assert.deepEqual(failure(() => query('reduce=true')), parseError('Reduce is invalid for map-only views.'));
  assert.deepEqual(failure(() => query('group=true')), parseError('Invalid use of grouping on a map view.'));
  assert.deepEqual(failure(() => query('group_level=2')), parseError('Invalid use of grouping on a map view.'));
  assert.equal(failure(() => query('group_level=0')), undefined);
  assert.deepEqual(failure(() => query('group=true&reduce=false', { reduce: true })), parseError('Invalid use of grouping on a map view.'));
  assert.deepEqual(failure(() => query('include_docs=true', { reduce: true })), parseError('`include_docs` is invalid for reduce'));
  assert.deepEqual(failure(() => query('conflicts=false', { reduce: true })), parseError('`conflicts` is invalid for reduce views.'));
  assert.deepEqual(
    failure(() => query('group=false&group_level=1', { reduce: true })),
    parseError("Can't specify group=false and group_level>0 at the same time"),
  );
  assert.deepEqual(failure(() => query('keys=["a","b"]', { reduce: true })), parseError('Multi-key fetches for reduce views must use `group=true`'));
  assert.equal(failure(() => query('keys=["a","b"]&group=true', { reduce: true })), undefined);
  assert.deepEqual(failure(() => query('keys=5')), parseError('`keys` must be an array of strings.'));
  assert.deepEqual(failure(() => query('keys=["a","b"]&startkey="a"')), parseError('`keys` is incompatible with `key`, `start_key` and `end_key`'));
});

test('a reversed range is an error that carries a ref', () => {
  const ascending = failure(() => query('startkey="z"&endkey="a"'));
  assert.equal(ascending?.reason, 'No rows can match your key range, reverse your start_key and end_key or set descending=true');
  assert.equal(typeof ascending?.ref, 'number');
  const descending = failure(() => query('descending=true&startkey="b"&endkey="cherry"'));
  assert.equal(descending?.reason, 'No rows can match your key range, reverse your start_key and end_key or set descending=false');
  // the same key, or equal keys whose id bounds are in order, are fine
  assert.equal(failure(() => query('startkey="a"&endkey="a"')), undefined);
  assert.equal(failure(() => query('startkey=1&endkey=1.0')), undefined);
  assert.ok(failure(() => query('startkey="a"&endkey="a"&startkey_docid=b&endkey_docid=a')) === undefined);
  assert.ok(failure(() => query('startkey=1&endkey=1.0&startkey_docid=b&endkey_docid=a')) !== undefined);
});
