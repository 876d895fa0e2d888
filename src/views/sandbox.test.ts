/** The view function sandbox: compiling, emitting, isolation of documents, errors, bounds, JavaScript reduce. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isCouchError } from '../core/errors.js';
import { stringifyJson } from '../core/json-write.js';
import { checkViewFunctions } from './design-check.js';
import { rowsReducer } from './reduce.js';
import type { ViewRow } from './row-order.js';
import { ViewSandbox, mapBatchDocsMax } from './sandbox.js';

function sandbox(logged: string[] = [], timeoutMs = 1000): ViewSandbox {
  return new ViewSandbox({ timeoutMs, log: (message) => logged.push(message), lib: { util: 'exports.twice = function (x) { return 2 * x; };' } });
}

function compileError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isCouchError(error) && error.error === 'compilation_error' && error.status === 400) return error.reason;
    throw error;
  }
  return 'compiled';
}

test('compilation errors as CouchDB (QuickJS) words them', () => {
  const box = sandbox();
  assert.equal(
    compileError(() => box.compile('function(doc){ emit(doc._id }', 'map', 'syntax')),
    "Compilation of the map function in the 'syntax' view failed: SyntaxError: expecting ',' (function(doc){ emit(doc._id })",
  );
  assert.equal(
    compileError(() => box.compile('42', 'map', 'notfn')),
    "Compilation of the map function in the 'notfn' view failed: Expression does not eval to a function. (42)",
  );
  assert.match(compileError(() => box.compile('nope', 'reduce', 'r')), /^Compilation of the reduce function in the 'r' view failed: ReferenceError: /);
  assert.equal(compileError(() => box.compile('function (doc) {} // trailing comment', 'map', 'ok')), 'compiled');
});

test('checkViewFunctions compiles every view of a JavaScript design document, and only those', () => {
  const timeoutMs = 1000;
  assert.doesNotThrow(() => checkViewFunctions('_design/a', { views: { v: { map: 'function(doc){ emit(1, 1); }', reduce: '_sum' }, lib: { x: 'y' } } }, { timeoutMs }));
  assert.doesNotThrow(() => checkViewFunctions('_design/a', { language: 'cobol', views: { v: { map: 'not javascript' } } }, { timeoutMs }));
  assert.match(compileError(() => checkViewFunctions('_design/a', { views: { v: { map: 'function(doc){}', reduce: 'function(' } } }, { timeoutMs })), /the reduce function in the 'v' view/);
});

test('map functions see a frozen copy of each document and emit JSON values', () => {
  const box = sandbox();
  const mutate = box.compile('function(doc){ doc.n = 99; emit(doc.n, null); }', 'map', 'mutate');
  const shapes = box.compile("function(doc){ emit([doc.n, doc._id], {f: doc.f, big: doc.big, half: doc.n / 2, helper: require('views/lib/util').twice(doc.n), arr: isArray(doc.list)}); emit(null); }", 'map', 'shapes');
  const results = box.mapDocs(['{"_id":"a","n":1,"f":1.0,"big":12345678901234567890,"list":[]}'], [mutate, shapes]);
  assert.equal(
    stringifyJson(results as never),
    '[[[[1,null]],[[[1,"a"],{"f":1,"big":12345678901234567000,"half":0.5,"helper":2,"arr":true}],[null,null]]]]',
  );
});

test('a map function that throws skips that document for that view only, and is logged', () => {
  const logged: string[] = [];
  const box = sandbox(logged);
  const throws = box.compile("function(doc){ if (doc._id === 'b') throw new Error('boom'); emit(doc._id, null); }", 'map', 'throws');
  const all = box.compile('function(doc){ emit(doc._id, 1); }', 'map', 'all');
  const results = box.mapDocs(['{"_id":"a"}', '{"_id":"b"}'], [throws, all]);
  assert.equal(stringifyJson(results as never), '[[[["a",null]],[["a",1]]],[null,[["b",1]]]]');
  assert.deepEqual(logged, ['function raised exception Error: boom with doc._id b']);
});

test('log() reaches the host; sum() and toJSON() are there', () => {
  const logged: string[] = [];
  const box = sandbox(logged);
  const fn = box.compile('function(doc){ log(doc._id); log({a: 1}); emit(sum([1, 2, 3]), toJSON([1])); }', 'map', 'v');
  assert.equal(stringifyJson(box.mapDocs(['{"_id":"x"}'], [fn]) as never), '[[[[6,"[1]"]]]]');
  assert.deepEqual(logged, ['x', '{"a":1}']);
});

test('a function running past the timeout fails the call with os_process_error; the rest of a batch is still mapped', () => {
  const box = sandbox([], 100);
  const fn = box.compile("function(doc){ if (doc._id === 'slow') { while (true) {} } emit(doc._id, null); }", 'map', 'slow');
  const fast = Array.from({ length: 3 }, (_, i) => `{"_id":"f${i}"}`);
  assert.equal(box.mapDocs(fast, [fn]).length, 3);
  assert.throws(
    () => box.mapDocs([...fast, '{"_id":"slow"}'], [fn]),
    (error: unknown) => isCouchError(error) && error.status === 500 && error.error === 'os_process_error',
  );
  // the sandbox still works afterwards
  assert.equal(box.mapDocs(fast, [fn]).length, 3);
  assert.ok(mapBatchDocsMax > 1);
});

test('JavaScript reduce with rereduce over chunks, and a throwing reduce yields null', () => {
  const logged: string[] = [];
  const box = sandbox(logged);
  const rows: ViewRow[] = Array.from({ length: 25 }, (_, i) => ({ key: i % 3, id: `d${i}`, value: i, emitIndex: 0 }));
  const counting = box.compile('function(keys, values, rereduce){ return rereduce ? {n: sum(values.map(function(v){ return v.n; })), re: true} : {n: values.length, firstKey: keys[0][1]}; }', 'reduce', 'r');
  const reducer = rowsReducer('function', { sandbox: box, funIndex: counting, batchRowsMax: 4 });
  assert.deepEqual(reducer(rows), { n: 25, re: true });
  assert.deepEqual(reducer(rows.slice(0, 3)), { n: 3, firstKey: 'd0' });
  const throwing = box.compile('function(){ throw new Error("nope"); }', 'reduce', 'bad');
  assert.equal(rowsReducer('function', { sandbox: box, funIndex: throwing })(rows), null);
  assert.match(logged.at(-1) ?? '', /reduce function raised exception Error: nope/);
  const summing = box.compile('function(keys, values){ return sum(values); }', 'reduce', 's');
  assert.equal(rowsReducer('function', { sandbox: box, funIndex: summing, batchRowsMax: 2 })(rows), 300);
});

test('a promise view code leaves rejected is logged, not fatal (in a child process: the test runner reports every rejection)', () => {
  const script = `
    const { ViewSandbox } = await import(${JSON.stringify(new URL('./sandbox.js', import.meta.url).href)});
    const box = new ViewSandbox({ timeoutMs: 1000, log: (message) => console.log(message) });
    const fn = box.compile("function(doc){ Promise.reject(new Error('later')); (async function(){ throw new Error('async'); })(); emit(doc._id, 1); }", 'map', 'p');
    box.mapDocs(['{"_id":"a"}'], [fn]);
    setTimeout(() => console.log('alive'), 20);
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(child.stdout.trim().split('\n').sort(), [
    'alive',
    'unhandled promise rejection in view code: Error: async',
    'unhandled promise rejection in view code: Error: later',
  ]);
  // a rejection that is not view code's still ends the process, as Node would
  const host = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `const { ViewSandbox } = await import(${JSON.stringify(new URL('./sandbox.js', import.meta.url).href)}); new ViewSandbox({ timeoutMs: 100, log() {} }); Promise.reject(new Error('host bug'));`],
    { encoding: 'utf8' },
  );
  assert.notEqual(host.status, 0);
  assert.match(host.stderr, /host bug/);
});
