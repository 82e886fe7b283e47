// Certificate- and token-derived strings cannot forge output: a newline or ANSI escape in
// a certificate identity never produces a line of its own (no fake "Verified OK"), and
// bidi/format characters are shown, not obeyed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable, printableJson } from '../../src/cli/printable.js';
import { failureLine, verifiedLine } from '../../src/cli/commands/verify-command.js';
import { VerificationError } from '../../src/core/errors.js';

// eslint-disable-next-line no-control-regex -- what must never reach the terminal raw
const RAW_CONTROL = /[\x00-\x1f\x7f-\x9f\u202e\u200b\u2028]/;
const EVIL_IDENTITY = 'mallory@example.com\n\x1b[32mVerified OK: ceo@corp.example\x1b[0m\r\u202egnp.exe\u200b\u0085';

test('printable escapes C0/C1 controls, DEL and format characters, and keeps ordinary text', () => {
  assert.equal(printable('a\nb\x1b[0m\x7f\u0085\u202e\u200b\ufeffé ✓'), 'a\\x0ab\\x1b[0m\\x7f\\x85\\u{202e}\\u{200b}\\u{feff}é ✓');
  assert.equal(
    printable('https://github.com/o/r/.github/workflows/r.yml@refs/heads/main'),
    'https://github.com/o/r/.github/workflows/r.yml@refs/heads/main',
  );
});

test('a certificate identity with a newline and ANSI escapes cannot produce a fake "Verified OK" line', () => {
  const line = verifiedLine({ identity: EVIL_IDENTITY, issuer: 'https://issuer.example\n\x1b[2K', signingTime: new Date(0) });
  assert.equal(line.split('\n').length, 1);
  assert.equal(line.split('\r').length, 1);
  assert.doesNotMatch(line, RAW_CONTROL);
  // One "Verified OK", at the start; the forged one is visibly part of the identity.
  assert.equal(line.match(/Verified OK/g)?.length, 2);
  assert.match(line, /^Verified OK: mallory@example\.com\\x0a\\x1b\[32mVerified OK: ceo@corp\.example/);
});

test('a failure naming such an identity is one escaped line', () => {
  const e = new VerificationError('POLICY_IDENTITY_MISMATCH', `policy.identity: ${EVIL_IDENTITY} is not expected`, {
    check: 'policy.identity',
    expected: 'alice@example.com',
    actual: EVIL_IDENTITY,
  });
  const line = failureLine(e);
  assert.equal(line.split(/[\n\r]/).length, 1);
  assert.doesNotMatch(line, RAW_CONTROL);
  assert.match(line, /^error: /);
});

test('printableJson is the same JSON, with the characters JSON.stringify leaves raw escaped', () => {
  const value = { identity: EVIL_IDENTITY, astral: 'x\u{e0001}y' };
  const text = printableJson(value, 2);
  assert.deepEqual(JSON.parse(text), value);
  assert.doesNotMatch(text.replace(/\n/g, ''), RAW_CONTROL);
  assert.doesNotMatch(text, /\u{e0001}/u);
});
