// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// cosign's flags that need no server: --output-file and -d on any command, signing-config /
// trusted-root create with --out, --with-default-services, --base-config and --no-default-*,
// attest-blob's --statement / --hash refusals, RE2 expressions on the command line.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER, ensureBuilt } from '../conformance/helpers.js';

const KEYLESS = join(process.cwd(), 'bin', 'keyless');
const A_TXT = join(CONFORMANCE_DIR, 'a.txt');
const V03 = join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json');
let dir: string;

/** bin/keyless with no token, no Keyless variables and an empty TUF cache: the defaults are the built-in ones. */
function keyless(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SIGSTORE_ID_TOKEN|ACTIONS_ID_TOKEN_|KEYLESS_)/.test(k)));
  return spawnSync(process.execPath, [KEYLESS, ...args], {
    encoding: 'utf8',
    env: { ...env, KEYLESS_TUF_ROOT: join(dir, 'no-tuf') },
    input: '',
  });
}

before(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'keyless-cosign-flags-'));
});

const SPEC = 'api-version=1,start-time=2025-01-01T00:00:00Z,operator=example.com';

test('signing-config create --with-default-services: the public-good services, flags added, --no-default-* dropped, --out', () => {
  const out = join(dir, 'sc.json');
  const r = keyless([
    'signing-config',
    'create',
    '--with-default-services',
    '--no-default-oidc',
    '--tsa',
    `url=https://tsa.example.com/api/v1/timestamp,${SPEC}`,
    '--out',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const sc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    sc.caUrls.map((s: { url: string }) => s.url),
    ['https://fulcio.sigstore.dev'],
  );
  assert.deepEqual(sc.oidcUrls ?? [], []);
  assert.deepEqual(sc.tsaUrls.map((s: { url: string }) => s.url).sort(), [
    'https://timestamp.sigstore.dev/api/v1/timestamp',
    'https://tsa.example.com/api/v1/timestamp',
  ]);
  assert.ok(sc.rekorTlogUrls.some((s: { url: string }) => s.url === 'https://rekor.sigstore.dev'));
});

test('signing-config create --base-config: a kind given by a flag replaces the base one', () => {
  const base = join(dir, 'sc.json');
  const out = join(dir, 'sc-based.json');
  const r = keyless(['signing-config', 'create', '--base-config', base, '--rekor', `url=https://rekor.example.com,${SPEC}`, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const sc = JSON.parse(readFileSync(out, 'utf8'));
  assert.deepEqual(
    sc.rekorTlogUrls.map((s: { url: string }) => s.url),
    ['https://rekor.example.com'],
  );
  assert.deepEqual(
    sc.caUrls.map((s: { url: string }) => s.url),
    ['https://fulcio.sigstore.dev'],
  );
  const notJson = keyless(['signing-config', 'create', '--base-config', A_TXT]);
  assert.equal(notJson.status, 2, notJson.stderr);
  assert.match(notJson.stderr, /--base-config .*a\.txt is not a signing config/);
  const clash = keyless(['signing-config', 'create', '--with-default-services', '--out', 'a.json', '--output-file', 'b.json']);
  assert.equal(clash.status, 2);
  assert.match(clash.stderr, /--out and --output-file name different files/);
});

test('trusted-root create --with-default-services --no-default-ctfe: the built-in root without its CT logs', () => {
  const r = keyless(['trusted-root', 'create', '--with-default-services', '--no-default-ctfe']);
  assert.equal(r.status, 0, r.stderr);
  const root = JSON.parse(r.stdout);
  assert.deepEqual(root.ctlogs ?? [], []);
  assert.ok(root.tlogs.length > 0 && root.certificateAuthorities.length > 0);
});

test('--output-file sends standard output to the file; -d prints every check on stderr', () => {
  const report = join(dir, 'report.json');
  const r = keyless([
    'verify-blob',
    A_TXT,
    '--bundle',
    V03,
    '--certificate-identity',
    DEFAULT_IDENTITY,
    '--certificate-oidc-issuer',
    DEFAULT_ISSUER,
    '--json',
    '--output-file',
    report,
    '-d',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(JSON.parse(readFileSync(report, 'utf8')).ok, true);
  assert.match(r.stderr, /^debug: ok {3}bundle\.format/m);
  assert.match(r.stderr, /^debug: ok {3}policy\.identity/m);
  const unwritable = keyless(['verify-blob', A_TXT, '--bundle', V03, '--output-file', join(dir, 'missing-dir', 'x')]);
  assert.equal(unwritable.status, 2);
  assert.match(unwritable.stderr, /cannot write --output-file/);
});

test('RE2 on the command line: (?i) verifies, an unsupported construct is a usage error naming it', () => {
  const base = ['verify-blob', A_TXT, '--bundle', V03, '--certificate-oidc-issuer', DEFAULT_ISSUER];
  const upper = DEFAULT_IDENTITY.toUpperCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.equal(keyless([...base, '--certificate-identity-regexp', `(?i)${upper}`]).status, 0);
  assert.equal(keyless([...base, '--certificate-identity-regexp', upper]).status, 1);
  const look = keyless([...base, '--certificate-identity-regexp', '(?=x).*']);
  assert.equal(look.status, 2);
  assert.match(look.stderr, /lookaround \(\?=…\) is not RE2 syntax/);
});

test('attest-blob: --predicate xor --statement, --hash is 64 hex digits, a statement must be in-toto (usage errors, exit 2)', () => {
  const predicate = join(dir, 'p.json');
  writeFileSync(predicate, '{}');
  const bundle = join(dir, 'att.json');
  const both = keyless(['attest-blob', A_TXT, '--predicate', predicate, '--statement', predicate, '--bundle', bundle]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /one of --predicate or --statement/);
  const badHash = keyless(['attest-blob', A_TXT, '--predicate', predicate, '--hash', 'abc', '--bundle', bundle]);
  assert.equal(badHash.status, 2);
  assert.match(badHash.stderr, /--hash must be the artifact's SHA-256 as 64 hex digits/);
  const notStatement = keyless(['attest-blob', '--statement', predicate, '--bundle', bundle]);
  assert.equal(notStatement.status, 2);
  assert.match(notStatement.stderr, /is not an in-toto statement/);
  const statement = join(dir, 'st.json');
  writeFileSync(
    statement,
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x', digest: { sha256: '00'.repeat(32) } }],
      predicateType: 'https://x/y',
    }),
  );
  const elsewhere = keyless(['attest-blob', A_TXT, '--statement', statement, '--bundle', bundle]);
  assert.equal(elsewhere.status, 2);
  assert.match(elsewhere.stderr, /has no subject with the SHA-256 of/);
  assert.ok(!existsSync(bundle));
});
