// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Key-pair signing against a real `keyless serve`: generate-key-pair writes an encrypted
// PKCS#8 key (0600) and its public key; sign-blob / attest-blob --key make bundles with a
// public-key hint, logged in Rekor v1 or v2 (as the signing config selects) and
// timestamped; they verify in @sigstore/verify (the key given as a trusted key) and in
// `keyless verify-blob --key`, and fail there when the artifact or the key is not the one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot, PublicKeyDetails } from '@sigstore/protobuf-specs';
import { KEYLESS_BIN, startServe, tempDir, type ServeProcess } from '../server/helpers.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `keyless ARGS` with exactly the password variables given (none inherited). */
function keyless(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['COSIGN_PASSWORD', 'KEYLESS_PASSWORD', 'KEYLESS_TRUSTED_ROOT', 'KEYLESS_SIGNING_CONFIG']) delete childEnv[k];
  Object.assign(childEnv, env);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KEYLESS_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const PASSWORD = 'correct horse battery staple';
let server: ServeProcess;
const work = tempDir('keyless-keypair-');
let trustedRoot: string;
const signingConfigs: Record<'v1' | 'v2', string> = { v1: '', v2: '' };

before(async () => {
  server = await startServe();
  trustedRoot = join(server.dataDir, 'trusted_root.json');
  const sc = JSON.parse(readFileSync(join(server.dataDir, 'signing_config.json'), 'utf8')) as {
    rekorTlogUrls: { majorApiVersion: number }[];
  };
  for (const v of [1, 2] as const) {
    const path = join(work, `signing_config.v${v}.json`);
    writeFileSync(path, JSON.stringify({ ...sc, rekorTlogUrls: sc.rekorTlogUrls.filter((u) => u.majorApiVersion === v), caUrls: [] }));
    signingConfigs[`v${v}`] = path;
  }
  // Two throwaway signatures first: no bundle of the tests below sits at log index 0
  // (sigstore-python refuses index 0; keep the bundles usable by every peer).
  const r = await keyless(['generate-key-pair', '--output-key-prefix', join(work, 'warm')], { COSIGN_PASSWORD: PASSWORD });
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(work, 'warm.txt'), 'warm\n');
  for (const v of ['v1', 'v2'] as const) {
    const s = await keyless(
      ['sign-blob', join(work, 'warm.txt'), '--key', join(work, 'warm.key'), '--bundle', join(work, `warm.${v}.json`), ...trust(v)],
      { COSIGN_PASSWORD: PASSWORD },
    );
    assert.equal(s.code, 0, s.stderr);
  }
});
after(async () => {
  await server?.stop();
});

function trust(v: 'v1' | 'v2'): string[] {
  return ['--signing-config', signingConfigs[v], '--trusted-root', trustedRoot];
}

test('generate-key-pair: encrypted PKCS#8 (PBES2 scrypt) at 0600 and an SPKI .pub; the password never printed; existing files kept without --force', async () => {
  const prefix = join(work, 'gen');
  const r = await keyless(['generate-key-pair', '--output-key-prefix', prefix], { KEYLESS_PASSWORD: PASSWORD });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), 'the password is never printed');
  assert.match(r.stderr, /Private key written to .*gen\.key/);
  const keyPem = readFileSync(`${prefix}.key`, 'utf8');
  assert.match(keyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  assert.equal(statSync(`${prefix}.key`).mode & 0o777, 0o600);
  assert.equal(statSync(`${prefix}.pub`).mode & 0o777, 0o644);
  assert.throws(() => createPrivateKey({ key: keyPem, passphrase: 'wrong' }));
  const key = createPrivateKey({ key: keyPem, passphrase: PASSWORD });
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(
    createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString(),
    readFileSync(`${prefix}.pub`, 'utf8'),
    'the .pub is the public half of the .key',
  );
  // OpenSSL itself reads the file (PBES2 with scrypt), when the command is installed.
  const openssl = spawnSync('openssl', ['pkcs8', '-in', `${prefix}.key`, '-passin', `pass:${PASSWORD}`], { encoding: 'utf8' });
  if (openssl.error === undefined) assert.match(openssl.stdout, /BEGIN PRIVATE KEY/, openssl.stderr);

  const again = await keyless(['generate-key-pair', '--output-key-prefix', prefix], { COSIGN_PASSWORD: 'other' });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /gen\.key already exists; pass --force/);
  assert.equal(readFileSync(`${prefix}.key`, 'utf8'), keyPem, 'the existing key is untouched');
  const forced = await keyless(['generate-key-pair', '--output-key-prefix', prefix, '--force'], { COSIGN_PASSWORD: 'other' });
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(readFileSync(`${prefix}.key`, 'utf8'), keyPem);
  // COSIGN_PASSWORD wins over KEYLESS_PASSWORD, as cosign reads it first.
  createPrivateKey({ key: readFileSync(`${prefix}.key`), passphrase: 'other' });
});

test('generate-key-pair: no password source is exit 2 and writes nothing; COSIGN_PASSWORD set empty is an empty password on purpose (as cosign)', async () => {
  const none = await keyless(['generate-key-pair', '--output-key-prefix', join(work, 'nopw')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error: a password is needed .* set COSIGN_PASSWORD/m);
  assert.ok(!existsSync(join(work, 'nopw.key')) && !existsSync(join(work, 'nopw.pub')));
  const empty = await keyless(['generate-key-pair', '--output-key-prefix', join(work, 'empty')], { COSIGN_PASSWORD: '' });
  assert.equal(empty.code, 0, empty.stderr);
  createPrivateKey({ key: readFileSync(join(work, 'empty.key')), passphrase: '' });
});

test('generate-key-pair on a terminal: the password is asked twice without echo; a mismatch or an empty one writes nothing', async (t) => {
  // A pseudo-terminal from Python's pty module (present wherever Python 3 is).
  const python = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' });
  if (python.error !== undefined || python.status !== 0) {
    t.skip('python3 with the pty module is needed to drive a terminal');
    return;
  }
  const driver = `
import os, pty, sys, time
args = sys.argv[1:-1]
answers = sys.argv[-1].split('\\x1f')
pid, fd = pty.fork()
if pid == 0:
    env = {k: v for k, v in os.environ.items() if k not in ('COSIGN_PASSWORD', 'KEYLESS_PASSWORD')}
    os.execvpe(args[0], args, env)
out = b''
def read_until(marker):
    global out
    while marker not in out:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            return False
        if not chunk:
            return False
        out += chunk
    return True
for i, answer in enumerate(answers):
    if not read_until(b'Enter password' if i == 0 else b'again: '):
        break
    os.write(fd, answer.encode() + b'\\r')
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;
  const onTerminal = (args: string[], answers: string[]) =>
    spawnSync('python3', ['-c', driver, process.execPath, KEYLESS_BIN, ...args, answers.join('\x1f')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const prompt = (prefix: string, answers: string[]) => onTerminal(['generate-key-pair', '--output-key-prefix', prefix], answers);
  const ok = prompt(join(work, 'tty'), ['typed secret', 'typed secret']);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Enter password for the new private key .*tty\.key: /);
  assert.match(ok.stdout, /again: /);
  assert.ok(!ok.stdout.includes('typed secret'), 'nothing typed is echoed');
  createPrivateKey({ key: readFileSync(join(work, 'tty.key')), passphrase: 'typed secret' });

  const mismatch = prompt(join(work, 'tty-mismatch'), ['one', 'two']);
  assert.equal(mismatch.status, 2, mismatch.stdout);
  assert.match(mismatch.stdout, /the two passwords typed differ/);
  assert.ok(!existsSync(join(work, 'tty-mismatch.key')));

  const empty = prompt(join(work, 'tty-empty'), ['']);
  assert.equal(empty.status, 2, empty.stdout);
  assert.match(empty.stdout, /an empty password leaves the private key unprotected/);
  assert.ok(!existsSync(join(work, 'tty-empty.key')));

  // Signing asks once, and the key typed on the terminal signs.
  writeFileSync(join(work, 'tty.txt'), 'signed after typing the password\n');
  const bundle = join(work, 'tty.sigstore.json');
  const signed = onTerminal(
    ['sign-blob', join(work, 'tty.txt'), '--key', join(work, 'tty.key'), '--bundle', bundle, ...trust('v1')],
    ['typed secret'],
  );
  assert.equal(signed.status, 0, signed.stdout);
  assert.match(signed.stdout, /Enter password for the private key .*tty\.key: /);
  assert.doesNotMatch(signed.stdout, /again: |typed secret/);
  const v = await keyless([
    'verify-blob',
    join(work, 'tty.txt'),
    '--bundle',
    bundle,
    '--key',
    join(work, 'tty.pub'),
    '--trusted-root',
    trustedRoot,
  ]);
  assert.equal(v.code, 0, v.stderr);
});

/** @sigstore/verify with the server's trusted root and the key as the trusted key its hint names. */
function sigstoreJsVerify(bundlePath: string, artifact: Buffer, pubPath: string): void {
  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')));
  assert.equal(bundle.verificationMaterial.content.$case, 'publicKey');
  const hint = bundle.verificationMaterial.content.$case === 'publicKey' ? bundle.verificationMaterial.content.publicKey.hint : '';
  const root = TrustedRoot.fromJSON(JSON.parse(readFileSync(trustedRoot, 'utf8')));
  const rawBytes = createPublicKey(readFileSync(pubPath)).export({ format: 'der', type: 'spki' });
  const keys = { [hint]: { rawBytes, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start: new Date(0) } } };
  // Rekor v1 gives a signed integrated time; a Rekor v2 entry needs the TSA's timestamp.
  const verifier = new Verifier(toTrustMaterial(root, keys), { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 });
  // A DSSE bundle is verified over its envelope (sigstore-js does not match the subject).
  verifier.verify(toSignedEntity(bundle, bundle.content.$case === 'messageSignature' ? artifact : undefined));
}

for (const v of ['v1', 'v2'] as const) {
  test(`sign-blob --key with Rekor ${v}: a public-key bundle that @sigstore/verify and keyless verify-blob --key accept; another artifact or key fails both`, async () => {
    const prefix = join(work, `sb-${v}`);
    assert.equal((await keyless(['generate-key-pair', '--output-key-prefix', prefix], { COSIGN_PASSWORD: PASSWORD })).code, 0);
    const artifact = join(work, `artifact-${v}.txt`);
    writeFileSync(artifact, `signed with a key pair, Rekor ${v}\n`);
    const bundlePath = join(work, `artifact-${v}.sigstore.json`);
    const s = await keyless(['sign-blob', artifact, '--key', `${prefix}.key`, '--bundle', bundlePath, ...trust(v)], {
      COSIGN_PASSWORD: PASSWORD,
    });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /Signed with the key /);
    assert.ok(!(s.stdout + s.stderr).includes(PASSWORD));
    const json = JSON.parse(readFileSync(bundlePath, 'utf8')) as {
      verificationMaterial: {
        publicKey?: { hint: string };
        certificate?: unknown;
        tlogEntries: { kindVersion: { version: string }; logIndex: string }[];
        timestampVerificationData: { rfc3161Timestamps: unknown[] };
      };
    };
    assert.ok(json.verificationMaterial.publicKey?.hint, 'a public-key hint, no certificate');
    assert.equal(json.verificationMaterial.certificate, undefined);
    assert.equal(json.verificationMaterial.tlogEntries[0]!.kindVersion.version, v === 'v1' ? '0.0.1' : '0.0.2');
    assert.notEqual(json.verificationMaterial.tlogEntries[0]!.logIndex, '0');
    assert.equal(json.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1);

    sigstoreJsVerify(bundlePath, readFileSync(artifact), `${prefix}.pub`);
    assert.throws(() => sigstoreJsVerify(bundlePath, Buffer.from('something else\n'), `${prefix}.pub`));
    assert.throws(() => sigstoreJsVerify(bundlePath, readFileSync(artifact), join(work, 'warm.pub')));

    const ok = await keyless(['verify-blob', artifact, '--bundle', bundlePath, '--key', `${prefix}.pub`, '--trusted-root', trustedRoot]);
    assert.equal(ok.code, 0, ok.stderr);
    const changed = join(work, `changed-${v}.txt`);
    writeFileSync(changed, 'something else\n');
    assert.equal(
      (await keyless(['verify-blob', changed, '--bundle', bundlePath, '--key', `${prefix}.pub`, '--trusted-root', trustedRoot])).code,
      1,
    );
    const otherKey = await keyless([
      'verify-blob',
      artifact,
      '--bundle',
      bundlePath,
      '--key',
      join(work, 'warm.pub'),
      '--trusted-root',
      trustedRoot,
    ]);
    assert.equal(otherKey.code, 1);
    const noKey = await keyless([
      'verify-blob',
      artifact,
      '--bundle',
      bundlePath,
      '--certificate-identity',
      'a@example.com',
      '--certificate-oidc-issuer',
      'https://x',
      '--trusted-root',
      trustedRoot,
    ]);
    assert.notEqual(noKey.code, 0, 'an identity policy cannot hold for a key-pair bundle');
  });

  test(`attest-blob --key with Rekor ${v}: the DSSE bundle verifies in @sigstore/verify and keyless verify-blob-attestation --key`, async () => {
    const prefix = join(work, `ab-${v}`);
    assert.equal((await keyless(['generate-key-pair', '--output-key-prefix', prefix], { COSIGN_PASSWORD: PASSWORD })).code, 0);
    const artifact = join(work, `attested-${v}.txt`);
    writeFileSync(artifact, `attested with a key pair, Rekor ${v}\n`);
    const predicate = join(work, 'predicate.json');
    writeFileSync(predicate, JSON.stringify({ builder: 'keyless test' }));
    const bundlePath = join(work, `attested-${v}.sigstore.json`);
    const s = await keyless(
      ['attest-blob', artifact, '--predicate', predicate, '--key', `${prefix}.key`, '--bundle', bundlePath, ...trust(v)],
      { COSIGN_PASSWORD: PASSWORD },
    );
    assert.equal(s.code, 0, s.stderr);
    // @sigstore/verify 3.1.1 matches a DSSE bundle's Rekor v2 hashedrekord entry against
    // SHA-256 of the payload, while rekor-tiles and sigstore-go (cosign) log and check
    // SHA-256 of the PAE: it cannot verify any DSSE bundle with a Rekor v2 entry, keyless
    // or key-pair (cosign verifies these in test/cli/peer-interop.test.ts).
    if (v === 'v1') sigstoreJsVerify(bundlePath, readFileSync(artifact), `${prefix}.pub`);
    else assert.throws(() => sigstoreJsVerify(bundlePath, readFileSync(artifact), `${prefix}.pub`), /digest mismatch/);
    const args = ['verify-blob-attestation', artifact, '--bundle', bundlePath, '--key', `${prefix}.pub`, '--trusted-root', trustedRoot];
    const ok = await keyless(args);
    assert.equal(ok.code, 0, ok.stderr);
    const changed = join(work, `attested-changed-${v}.txt`);
    writeFileSync(changed, 'not the attested artifact\n');
    assert.equal((await keyless([...args.slice(0, 1), changed, ...args.slice(2)])).code, 1);
  });
}

test('--key mistakes: wrong password, a public key, an unsupported curve, certificate flags; exit 2, nothing logged or written', async () => {
  const artifact = join(work, 'mistake.txt');
  writeFileSync(artifact, 'mistakes\n');
  const bundle = join(work, 'mistake.sigstore.json');
  const sign = (key: string, env: Record<string, string>, extra: string[] = []) =>
    keyless(['sign-blob', artifact, '--key', key, '--bundle', bundle, ...trust('v1'), ...extra], env);

  const wrong = await sign(join(work, 'warm.key'), { COSIGN_PASSWORD: 'not it' });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /^error: .*warm\.key: the password does not decrypt this key\n$/);

  const noPassword = await sign(join(work, 'warm.key'), {});
  assert.equal(noPassword.code, 2);
  assert.match(noPassword.stderr, /a password is needed for the private key .*warm\.key/);

  const pub = await sign(join(work, 'warm.pub'), { COSIGN_PASSWORD: PASSWORD });
  assert.equal(pub.code, 2);
  assert.match(pub.stderr, /holds PUBLIC KEY \(a public key: sign with the private half/);

  const p384 = join(work, 'p384.key');
  writeFileSync(p384, generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const curve = await sign(p384, {});
  assert.equal(curve.code, 2);
  assert.match(curve.stderr, /holds an EC key on secp384r1; key-pair signing takes ECDSA P-256 keys/);

  const both = await sign(join(work, 'warm.key'), { COSIGN_PASSWORD: PASSWORD }, ['--identity-token', 'x.y.z']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--key signs with your own key, without a certificate: drop --identity-token/);

  const missing = await sign(join(work, 'absent.key'), { COSIGN_PASSWORD: PASSWORD });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read key .*absent\.key \(no such file or directory\)/);
  assert.ok(!existsSync(bundle), 'no bundle was written');
  for (const r of [wrong, noPassword, pub, curve, both, missing]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('an unencrypted PKCS#8 key signs without asking for a password', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = join(work, 'plain.key');
  const pub = join(work, 'plain.pub');
  writeFileSync(key, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  writeFileSync(pub, publicKey.export({ format: 'pem', type: 'spki' }));
  const artifact = join(work, 'plain.txt');
  writeFileSync(artifact, 'plain\n');
  const bundle = join(work, 'plain.sigstore.json');
  const s = await keyless(['sign-blob', artifact, '--key', key, '--bundle', bundle, ...trust('v2')]);
  assert.equal(s.code, 0, s.stderr);
  const v = await keyless(['verify-blob', artifact, '--bundle', bundle, '--key', pub, '--trusted-root', trustedRoot]);
  assert.equal(v.code, 0, v.stderr);
});

test('sign-blob --key with many files: one bundle each, verified in worker threads before writing, each verifies with --key', async () => {
  const dir = join(work, 'many');
  const files = Array.from({ length: 17 }, (_, i) => join(work, `many-${i}.txt`));
  files.forEach((f, i) => writeFileSync(f, `file ${i}\n`));
  const s = await keyless(['sign-blob', ...files, '--key', join(work, 'warm.key'), '--output-dir', dir, ...trust('v2')], {
    COSIGN_PASSWORD: PASSWORD,
  });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stderr, /Wrote 17 bundles/);
  for (const i of [0, 16]) {
    const v = await keyless([
      'verify-blob',
      files[i]!,
      '--bundle',
      join(dir, `many-${i}.txt.sigstore.json`),
      '--key',
      join(work, 'warm.pub'),
      '--trusted-root',
      trustedRoot,
    ]);
    assert.equal(v.code, 0, v.stderr);
  }
  const crossed = await keyless([
    'verify-blob',
    files[1]!,
    '--bundle',
    join(dir, 'many-2.txt.sigstore.json'),
    '--key',
    join(work, 'warm.pub'),
    '--trusted-root',
    trustedRoot,
  ]);
  assert.equal(crossed.code, 1, 'a bundle does not verify another file');
});
