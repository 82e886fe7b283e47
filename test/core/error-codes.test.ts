// The error-code registry: one meaning per code, every code used in src/ registered,
// docs/errors.md generated from it and up to date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, ERROR_COMPONENTS, isErrorCode } from '../../src/core/error-codes.js';
import { KeylessError } from '../../src/core/errors.js';
import { renderErrorDocs, RENAMED_CODES } from '../../scripts/gen-error-docs.js';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Node's own errno codes, compared against in a few places; not ours. */
const NODE_CODES = new Set(['EEXIST', 'EPERM', 'EPIPE', 'ENOENT', 'EADDRINUSE', 'ERR_OSSL_BAD_DECRYPT']);
const CODE_SHAPE = /^(?:[A-Z][A-Z0-9_]*|[a-z]+(?:_[a-z]+)+)$/;
/** Where a code appears as a literal: thrown, passed to a throw helper, assigned or compared as `code`. */
const CODE_SITES = [
  /new\s+\w*Error\(\s*(?:\d+\s*,\s*)?'([^']*)'/g,
  /new\s+\w*Error\([^'`,()]*\?\s*'([^']*)'\s*:\s*'([^']*)'/g,
  /\b(?:fail|bad|badRequest|rejected)\(\s*(?:[\w.]+\s*\?\s*)?'([^']*)'(?:\s*:\s*'([^']*)')?/g,
  /\bcode\s*(?:===|!==|=|:)\s*'([^']*)'/g,
];

function codeLiterals(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles('src')) {
    const text = readFileSync(file, 'utf8');
    for (const re of CODE_SITES) {
      for (const m of text.matchAll(re)) {
        for (const literal of m.slice(1)) {
          if (literal === undefined || !CODE_SHAPE.test(literal) || NODE_CODES.has(literal)) continue;
          found.set(literal, [...(found.get(literal) ?? []), file]);
        }
      }
    }
  }
  return found;
}

test('every error-code literal in src/ is registered, and no former code is still used', () => {
  const found = codeLiterals();
  // The scanner must see the codes it is meant to police, or this test proves nothing.
  for (const sample of [
    'FORMAT_INVALID',
    'REQUEST_INVALID',
    'CERTIFICATE_EXPIRED',
    'SERVICE_FAILED',
    'invalid_grant',
    'USAGE',
    'LOG_STATE_CONFLICT',
  ]) {
    assert.ok(found.has(sample), `scanner missed ${sample}`);
  }
  assert.ok(found.size > 100, `only ${found.size} code literals found`);
  const unregistered = [...found]
    .filter(([code]) => !isErrorCode(code))
    .map(([code, files]) => `${code} (${[...new Set(files)].join(', ')})`);
  assert.deepEqual(unregistered, []);
  const former = [...found.keys()].filter((code) => code in RENAMED_CODES);
  assert.deepEqual(former, []);
});

test('every registered code has one component and a one-line meaning no other code shares', () => {
  const byMeaning = new Map<string, string>();
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.ok(CODE_SHAPE.test(code), `${code}: codes are UPPER_SNAKE (or OAuth's lower_snake)`);
    assert.ok((ERROR_COMPONENTS as readonly string[]).includes(info.component), `${code}: unknown component ${info.component}`);
    assert.match(info.meaning, /^\S.*[.)]$/, `${code}: the meaning is one sentence`);
    assert.doesNotMatch(info.meaning, /\n|\|/, `${code}: the meaning fits one table cell`);
    const key = info.meaning.toLowerCase();
    assert.equal(byMeaning.get(key), undefined, `${code} and ${byMeaning.get(key)} share the meaning "${info.meaning}"`);
    byMeaning.set(key, code);
  }
  for (const [from, to] of Object.entries(RENAMED_CODES)) {
    assert.ok(!isErrorCode(from), `${from} was renamed but is registered again`);
    assert.ok(isErrorCode(to), `${from} was renamed to the unregistered ${to}`);
  }
});

test('isErrorCode accepts registered codes only, and KeylessError carries them', () => {
  assert.equal(isErrorCode('TLOG_SET_INVALID'), true);
  assert.equal(isErrorCode('INVALID_PARAMETER'), false);
  assert.equal(isErrorCode('toString'), false);
  assert.equal(isErrorCode(42), false);
  assert.deepEqual(new KeylessError('POLICY_INVALID', 'x').toJSON(), { code: 'POLICY_INVALID', message: 'x' });
});

test('docs/errors.md is generated from the registry (run `npm run docs:errors`)', () => {
  const onDisk = readFileSync('docs/errors.md', 'utf8');
  assert.equal(onDisk, renderErrorDocs(), 'docs/errors.md is out of date: run npm run docs:errors');
  for (const code of Object.keys(ERROR_CODES)) assert.ok(onDisk.includes(`| \`${code}\` |`), `${code} missing from docs/errors.md`);
});
