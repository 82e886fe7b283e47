// parseJson's nesting limit: deep documents are refused, whatever the bracket-count shortcut
// lets through is truly shallow, and brackets inside strings never count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson, DEFAULT_MAX_JSON_DEPTH } from '../../src/core/json.js';

test('nesting deeper than the limit is refused, at the limit accepted', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
  assert.doesNotThrow(() => parseJson(nested(DEFAULT_MAX_JSON_DEPTH)));
  assert.throws(() => parseJson(nested(DEFAULT_MAX_JSON_DEPTH + 1), 'doc'), /doc: JSON nested deeper than 64 levels/);
  assert.throws(() => parseJson(`{"a":${'{"b":'.repeat(70)}1${'}'.repeat(70)}}`), /nested deeper/);
  assert.throws(() => parseJson(nested(5), 'doc', 4), /nested deeper than 4 levels/);
});

test('many brackets that are not nesting (inside strings, side by side) are accepted', () => {
  assert.deepEqual(parseJson(JSON.stringify({ s: '[{'.repeat(500) })), { s: '[{'.repeat(500) });
  const wide = `[${Array.from({ length: 300 }, () => '{"a":[1]}').join(',')}]`;
  assert.equal((parseJson(wide) as unknown[]).length, 300);
  // An escaped quote does not end the string: its brackets still do not count.
  assert.doesNotThrow(() => parseJson(`{"s":"\\"${'['.repeat(100)}"}`));
});
