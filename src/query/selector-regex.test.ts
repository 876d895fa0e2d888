import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePcre, pcreMatches } from './selector-regex.js';

const matches = (pattern: string, value: string): boolean => {
  const regex = compilePcre(pattern);
  assert.ok(regex !== undefined, `compiles: ${pattern}`);
  return pcreMatches(regex, value);
};

test('ordinary patterns behave as in PCRE', () => {
  assert.equal(matches('^[0-9a-f]+$', '3a0df5e'), true);
  assert.equal(matches('^[0-9a-f]+$', '3a0gf5e'), false);
  assert.equal(matches('^[0-9a-f]+$', ''), false);
  assert.equal(matches('^A', 'Alice'), true);
  assert.equal(matches('lic', 'Alice'), true, 'unanchored: a match anywhere');
  assert.equal(matches('(?i)^al', 'Alice'), true);
  assert.equal(matches('^(?:a|b)+$', 'abba'), true);
});

test('PCRE details: $ before a final newline, . and \\s, \\A \\z \\Z, POSIX classes, \\Q…\\E', () => {
  assert.equal(matches('a$', 'a\n'), true);
  assert.equal(matches('a\\z', 'a\n'), false);
  assert.equal(matches('a\\Z', 'a\n'), true);
  assert.equal(matches('\\Aab', 'ab'), true);
  assert.equal(matches('a.b', 'a\rb'), true, '. excludes only \\n');
  assert.equal(matches('a.b', 'a\nb'), false);
  assert.equal(matches('(?s)a.b', 'a\nb'), true);
  assert.equal(matches('(?m)^b', 'a\nb'), true);
  assert.equal(matches('^b', 'a\nb'), false);
  assert.equal(matches('^[[:alpha:]]+$', 'abcXYZ'), true);
  assert.equal(matches('^[[:digit:]]+$', '12a'), false);
  assert.equal(matches('^\\Qa.b\\E$', 'a.b'), true);
  assert.equal(matches('^\\Qa.b\\E$', 'axb'), false);
  assert.equal(matches('[]a]', ']'), true, 'a leading ] is literal');
  assert.equal(matches('(?x) a b # comment', 'ab'), true);
  assert.equal(matches('^(?P<word>ab)(?P=word)$', 'abab'), true);
  assert.equal(matches('^(?P<word>ab)(?P=word)$', 'abba'), false);
  assert.equal(matches('a++b', 'aab'), true, 'possessive, matched as greedy');
  assert.equal(matches('(?>a+)b', 'aab'), true);
});

test('bytes, not characters: CouchDB runs re without the unicode option', () => {
  assert.equal(matches('^.$', 'é'), false);
  assert.equal(matches('^..$', 'é'), true);
  assert.equal(matches('^é$', 'é'), true);
  assert.equal(matches('\\s', 'à'), false, 'à is C3 A0; A0 is not PCRE whitespace');
});

test('invalid patterns are refused', () => {
  for (const pattern of ['[', '(', 'a)', '*a', 'a{2,1}', '(?<n>a)(?<n>b)', '(?R)', '\\p{L}', '(*UTF8)a', 'a\\']) {
    assert.equal(compilePcre(pattern), undefined, pattern);
  }
});
