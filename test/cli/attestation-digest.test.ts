// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// verify-blob-attestation against a subject's digest instead of a file (--digest HEX
// --digestAlg sha256|sha384|sha512) and without matching the subjects at all
// (--check-claims=false), on attestations from a real `keyless serve`. The agreement with
// cosign is pinned in ./cosign-parity.test.ts; here, what cosign leaves unsaid: exit codes,
// messages, and the verifier's checks in the JSON report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, signingFlags, type Serve } from '../sign/serve-helper.js';

const EMAIL = 'attester@example.com';
let serve: Serve;
let work: string;
let issuer: string;
let artifact: string;
/** An attestation whose statement names `artifact` by sha256 and sha512, and a plain blob signature of it. */
let attestation: string;
let blobBundle: string;
let token: string;

const hex = (alg: string, data: Buffer | string) => createHash(alg).update(data).digest('hex');
const policy = () => ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer, '--trusted-root', serve.trustedRoot];
const verifyAttestation = (...args: string[]) => keyless(['verify-blob-attestation', '--bundle', attestation, ...policy(), ...args]);

/** Signs with the test's identity against the test's `keyless serve`, writing the bundle to `out`. */
async function sign(args: string[], out: string): Promise<string> {
  const r = await keyless([...args, '--bundle', out, ...signingFlags(serve, token)]);
  assert.equal(r.code, 0, r.stderr);
  return out;
}

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-attestation-digest-'));
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  assert.equal(t.code, 0, t.stderr);
  token = t.stdout.trim();
  issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
  artifact = join(work, 'release.tar');
  writeFileSync(artifact, 'release contents\n');
  const statement = join(work, 'statement.json');
  writeFileSync(
    statement,
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        { name: 'release.tar', digest: { sha256: hex('sha256', readFileSync(artifact)), sha512: hex('sha512', readFileSync(artifact)) } },
      ],
      predicateType: 'https://cosign.sigstore.dev/attestation/v1',
      predicate: { built: true },
    }),
  );
  attestation = await sign(['attest-blob', '--statement', statement], join(work, 'att.sigstore.json'));
  blobBundle = await sign(['sign-blob', artifact], join(work, 'blob.sigstore.json'));
});
after(async () => {
  await serve?.stop();
});

test('--digest with each --digestAlg the statement names verifies without a file; a digest of other bytes fails (exit 1)', async () => {
  const data = readFileSync(artifact);
  for (const alg of ['sha256', 'sha512']) {
    const r = await verifyAttestation('--digest', hex(alg, data).toUpperCase(), '--digestAlg', alg);
    assert.equal(r.code, 0, `${alg}: ${r.stderr}`);
    assert.match(r.stdout, /^Verified OK: attester@example\.com/);
  }
  const wrong = await verifyAttestation('--digest', hex('sha256', 'other bytes'), '--digestAlg', 'sha256');
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /intoto\.subject: no subject of the statement has the artifact digest/);
  // The statement names no sha384 digest: nothing to match.
  const sha384 = await verifyAttestation('--digest', hex('sha384', data), '--digestAlg', 'sha384');
  assert.equal(sha384.code, 1, sha384.stderr);
});

test('--digest mistakes are usage errors (exit 2) that say what to give', async () => {
  const d = hex('sha256', readFileSync(artifact));
  const cases: [string[], RegExp][] = [
    [['--digest', d], /--digest needs --digestAlg \(sha256, sha384 or sha512\)/],
    [['--digest', d, '--digestAlg', 'md5'], /--digestAlg md5 is not supported: give sha256, sha384 or sha512/],
    [['--digest', d.slice(2), '--digestAlg', 'sha256'], /is not a sha256 digest: give 64 hex digits/],
    [['--digest', d, '--digestAlg', 'sha512'], /is not a sha512 digest: give 128 hex digits/],
    [[], /give the file to verify, or --digest HEX --digestAlg ALG/],
    [['--check-claims=maybe', artifact], /true or false, as in --check-claims=false/],
  ];
  for (const [args, message] of cases) {
    const r = await verifyAttestation(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('a file and --digest: the file wins, with a warning (as cosign)', async () => {
  const r = await verifyAttestation('--digest', hex('sha256', 'other bytes'), '--digestAlg', 'sha256', artifact);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /WARNING: --digest is ignored: the file .*release\.tar is hashed instead/);
});

test('--check-claims=false verifies the envelope, its signer and type without a file, and the report says the subject was not matched', async () => {
  const r = await verifyAttestation('--check-claims=false', '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { checks: { check: string; ok: boolean; actual?: unknown; detail?: string }[] };
  const subject = report.checks.find((c) => c.check === 'intoto.subject');
  assert.deepEqual([subject?.ok, subject?.actual, subject?.detail], [true, 'not compared with an artifact', 'checkClaims false']);
  assert.ok(report.checks.some((c) => c.check === 'signature' && c.ok));
  // A file that is not the subject is not read, so it does not matter (cosign's behaviour); `--check-claims true` keeps the match.
  const other = join(work, 'not-the-subject.txt');
  writeFileSync(other, 'something else\n');
  assert.equal((await verifyAttestation('--check-claims=false', other)).code, 0);
  assert.equal((await verifyAttestation('--check-claims', 'true', other)).code, 1);
  // The signer and the predicate type are still checked.
  const wrongSigner = await keyless([
    'verify-blob-attestation',
    '--bundle',
    attestation,
    '--check-claims=false',
    ...policy().map((a) => (a === EMAIL ? 'someone@example.com' : a)),
  ]);
  assert.equal(wrongSigner.code, 1);
  const wrongType = await verifyAttestation('--check-claims=false', '--type', 'slsaprovenance1');
  assert.equal(wrongType.code, 1);
  assert.match(wrongType.stderr, /predicate type/);
  // A blob signature is not an attestation, with or without claims.
  const blob = await keyless(['verify-blob-attestation', '--bundle', blobBundle, ...policy(), '--check-claims=false']);
  assert.equal(blob.code, 1);
});

test('with several files: --check-claims=false applies to each, --digest is refused (exit 2)', async () => {
  const dir = join(work, 'many');
  mkdirSync(dir);
  const copy = join(dir, 'att.sigstore.json');
  writeFileSync(copy, readFileSync(attestation));
  // Named like the bundle's file, but other bytes: only --check-claims=false accepts it.
  const file = join(work, 'att');
  writeFileSync(file, 'not the subject\n');
  const batch = (...args: string[]) => keyless(['verify-blob-attestation', file, '--bundle-dir', dir, ...policy(), ...args]);
  assert.equal((await batch()).code, 1);
  const relaxed = await batch('--check-claims=false');
  assert.equal(relaxed.code, 0, relaxed.stderr);
  const digest = await batch('--digest', hex('sha256', 'x'), '--digestAlg', 'sha256');
  assert.equal(digest.code, 2);
  assert.match(digest.stderr, /--digest names the subject of one attestation/);
});

test('with several files too large to keep in memory, --digestAlg says how each is hashed to match its subject', async () => {
  // Over ARTIFACT_IN_MEMORY_BYTES (16 MiB): streamed through one hash, the one --digestAlg names.
  const big = Buffer.alloc(17 * 1024 * 1024, 7);
  const dir = join(work, 'large');
  mkdirSync(dir);
  const statement = join(work, 'large-statement.json');
  writeFileSync(
    statement,
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      // attest-blob wants a sha256 digest; this one is of other bytes, so only sha512 can match.
      subject: [{ name: 'image.raw', digest: { sha256: hex('sha256', 'other bytes'), sha512: hex('sha512', big) } }],
      predicateType: 'https://cosign.sigstore.dev/attestation/v1',
      predicate: {},
    }),
  );
  const bundle = await sign(['attest-blob', '--statement', statement], join(dir, 'a.raw.sigstore.json'));
  writeFileSync(join(dir, 'b.raw.sigstore.json'), readFileSync(bundle));
  const files = ['a.raw', 'b.raw'].map((n) => join(work, n));
  for (const f of files) writeFileSync(f, big);
  const batch = (...args: string[]) => keyless(['verify-blob-attestation', ...files, '--bundle-dir', dir, ...policy(), ...args]);
  for (const jobs of ['1', '2']) {
    const sha512 = await batch('--digestAlg', 'sha512', '--jobs', jobs);
    assert.equal(sha512.code, 0, sha512.stderr);
    assert.equal(sha512.stdout.split('\n').filter((l) => l.includes(': Verified OK: ')).length, 2, sha512.stdout);
    // Hashed with sha256 (the default), no subject matches.
    const sha256 = await batch('--jobs', jobs);
    assert.equal(sha256.code, 1, sha256.stdout);
  }
  const bad = await batch('--digestAlg', 'md5');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--digestAlg md5 is not supported/);
});
