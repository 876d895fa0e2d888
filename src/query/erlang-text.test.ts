import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson } from '../core/json-parse.js';
import { JsonFloat, type JsonValue } from '../core/json-value.js';
import { compareErlangTerms, erlangEquals, erlangFloatText, erlangTermText } from './erlang-text.js';

test('~w of decoded JSON, as CouchDB error reasons show it', () => {
  assert.equal(erlangTermText('x'), '<<120>>');
  assert.equal(erlangTermText('no'), '<<110,111>>');
  assert.equal(erlangTermText(''), '<<>>');
  assert.equal(erlangTermText('é'), '<<195,169>>');
  assert.equal(erlangTermText(parseJson('{"a":1}')), '{[{<<97>>,1}]}');
  assert.equal(erlangTermText({}), '{[]}');
  assert.equal(erlangTermText([]), '[]');
  assert.equal(erlangTermText([120, 'a', null, true, false]), '[120,<<97>>,null,true,false]');
  assert.equal(erlangTermText(parseJson('{"b":[1.5,{"c":{}}],"0":2}')), '{[{<<98>>,[1.5,{[{<<99>>,{[]}}]}]},{<<48>>,2}]}');
  assert.equal(erlangTermText(12345678901234567890n), '12345678901234567890');
  assert.equal(erlangTermText(-7), '-7');
});

test('floats print as OTP float_to_list(F, [short])', () => {
  const cases: [number, string][] = [
    [1, '1.0'], [1.5, '1.5'], [0.1, '0.1'], [-0, '-0.0'], [0, '0.0'], [100, '100.0'], [1e10, '1.0e10'],
    [123456, '123456.0'], [1234567, '1234567.0'], [1e7, '1.0e7'], [0.001, '0.001'], [0.0001, '0.0001'],
    [0.00001, '1.0e-5'], [1.5e300, '1.5e300'], [2 ** 53, '9.007199254740992e15'], [-2.5e-10, '-2.5e-10'], [3.14, '3.14'],
  ];
  for (const [value, text] of cases) assert.equal(erlangFloatText(value), text, String(value));
  assert.equal(erlangTermText(new JsonFloat(3)), '3.0');
});

test('Erlang term order: number < atom < tuple < list < binary', () => {
  const ordered: JsonValue[] = [-1, new JsonFloat(2), 3n ** 40n, false, null, true, {}, { a: 1 }, [], [1], 'A', 'a', 'b'];
  for (let i = 1; i < ordered.length; i++) {
    assert.equal(compareErlangTerms(ordered[i - 1]!, ordered[i]!), -1, `${i}`);
    assert.equal(compareErlangTerms(ordered[i]!, ordered[i - 1]!), 1, `${i}`);
  }
  assert.equal(compareErlangTerms(1, new JsonFloat(1)), 0);
  assert.ok(compareErlangTerms('Z', 'a') < 0, 'bytewise, not ICU');
});

test('exact and arithmetic equality', () => {
  assert.equal(erlangEquals(1, new JsonFloat(1), 'exact'), false);
  assert.equal(erlangEquals(1, new JsonFloat(1), 'arithmetic'), true);
  assert.equal(erlangEquals(parseJson('{"a":1,"b":2}'), parseJson('{"b":2,"a":1}'), 'exact'), false, 'member order matters');
  assert.equal(erlangEquals([1, ['x']], [1, ['x']], 'exact'), true);
  assert.equal(erlangEquals('a', 'a\u0000', 'arithmetic'), false);
});
