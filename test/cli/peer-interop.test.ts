// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Keyless and the real tools on one private instance (`keyless serve`), checked both ways:
// Keyless's bundles (blob and attestation; identity and key pair; Rekor v1 and Rekor v2
// signing configs) verify with cosign v3.1.3 (`verify-blob`, `verify-blob-attestation`,
// `--trusted-root` = the server's trusted_root.json) and, for identity bundles, with
// sigstore-python 4.5.1 (`--trust-config` = a ClientTrustConfig of the server's trusted
// root and signing config); bundles made by cosign (identity token from the dev IdP, and
// `--key` with cosign's own key) and by sigstore-python verify with `keyless verify-blob`;
// a changed artifact or signature fails in both. cosign is $KEYLESS_COSIGN and
// sigstore-python $KEYLESS_PYTHON (.ci/run installs both, pinned): a test is skipped,
// saying so, only when its variable is unset.
//
// Known peer limitations (asserted or avoided here, never hidden):
// - sigstore-python has no key-based verification: key-pair bundles are checked with
//   cosign, @sigstore/verify (test/sign/key-pair.test.ts) and Keyless only.
// - sigstore-python 4.5.1 refuses an entry with logIndex 0 (protobuf JSON omits a zero and
//   its model requires the field): throwaway signatures first keep every bundle here off
//   index 0 in both logs.
// - cosign reads an identity token file as is, so the token file has no trailing newline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYLESS_BIN, startServe, tempDir, type ServeProcess } from '../server/helpers.js';
import { COSIGN_VERSION } from '../support/cosign.js';

const SIGSTORE_PYTHON_VERSION = '4.5.1';
const COSIGN = process.env.KEYLESS_COSIGN || undefined;
const PYTHON = process.env.KEYLESS_PYTHON || undefined;
const NO_COSIGN = COSIGN ? false : `KEYLESS_COSIGN is not set (CI sets it to cosign ${COSIGN_VERSION}); cosign interop not checked`;
const NO_PYTHON = PYTHON
  ? false
  : `KEYLESS_PYTHON is not set (CI sets it to a Python with sigstore ${SIGSTORE_PYTHON_VERSION}); sigstore-python interop not checked`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (e) => resolve({ code: -1, stdout, stderr: `${stderr}${cmd}: ${e.message}` }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const work = tempDir('keyless-peer-interop-');
const PASSWORD = 'interop password';
const EMAIL = 'interop@example.com';
/** No ambient Sigstore, TUF or password state: everything comes from the flags. */
const baseEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '',
  HOME: join(work, 'home'),
  XDG_CACHE_HOME: join(work, 'xdg-cache'),
  XDG_DATA_HOME: join(work, 'xdg-data'),
  TUF_ROOT: join(work, 'tuf'),
});
const keyless = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [KEYLESS_BIN, ...args], { ...baseEnv(), ...env });
const cosign = (args: string[], env: NodeJS.ProcessEnv = {}) => run(COSIGN!, args, { ...baseEnv(), ...env });
const python = (args: string[]) => run(PYTHON!, ['-m', 'sigstore', ...args], baseEnv());

type Log = 'v1' | 'v2';
let server: ServeProcess;
let issuer: string;
let trustedRoot: string;
let tokenFile: string;
const signingConfig: Record<Log, string> = { v1: '', v2: '' };
const trustConfig: Record<Log, string> = { v1: '', v2: '' };

/** A bundle Keyless made, and how a verifier must be told who signed it. */
interface Made {
  name: string;
  artifact: string;
  bundle: string;
  attestation: boolean;
  /** The public key for a key-pair bundle; else the certificate identity EMAIL. */
  publicKey?: string;
}
const made: Made[] = [];

function write(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

function policy(m: { publicKey?: string }): { cosign: string[]; keyless: string[] } {
  if (m.publicKey) return { cosign: ['--key', m.publicKey], keyless: ['--key', m.publicKey] };
  const identity = ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer];
  return { cosign: identity, keyless: identity };
}

/** The same bundle with one bit of its signature flipped. */
function tamperSignature(bundlePath: string, name: string): string {
  const b = JSON.parse(readFileSync(bundlePath, 'utf8')) as {
    messageSignature?: { signature: string };
    dsseEnvelope?: { signatures: { sig: string }[] };
  };
  const flip = (s: string) => {
    const bytes = Buffer.from(s, 'base64');
    bytes[bytes.length - 4]! ^= 0x01;
    return bytes.toString('base64');
  };
  if (b.messageSignature) b.messageSignature.signature = flip(b.messageSignature.signature);
  else b.dsseEnvelope!.signatures[0]!.sig = flip(b.dsseEnvelope!.signatures[0]!.sig);
  return write(name, JSON.stringify(b));
}

const keylessVerify = (m: Made, artifact = m.artifact, bundle = m.bundle) =>
  keyless([
    m.attestation ? 'verify-blob-attestation' : 'verify-blob',
    artifact,
    '--bundle',
    bundle,
    ...policy(m).keyless,
    '--trusted-root',
    trustedRoot,
  ]);
const cosignVerify = (m: Made, artifact = m.artifact, bundle = m.bundle) =>
  cosign([
    m.attestation ? 'verify-blob-attestation' : 'verify-blob',
    artifact,
    '--bundle',
    bundle,
    ...(m.attestation ? ['--type', 'custom'] : []),
    ...policy(m).cosign,
    '--trusted-root',
    trustedRoot,
  ]);
const pythonVerify = (m: Made, artifact = m.artifact, bundle = m.bundle) =>
  python([
    '--trust-config',
    trustConfig[m.name.includes('-v1') ? 'v1' : 'v2'],
    'verify',
    'identity',
    '--bundle',
    bundle,
    '--cert-identity',
    EMAIL,
    '--cert-oidc-issuer',
    issuer,
    artifact,
  ]);

before(async () => {
  // Nothing to compare against: no server, no bundles.
  if (NO_COSIGN && NO_PYTHON) return;
  mkdirSync(join(work, 'home'));
  server = await startServe();
  issuer = `${server.url}/oidc`;
  trustedRoot = join(server.dataDir, 'trusted_root.json');
  const root = JSON.parse(readFileSync(trustedRoot, 'utf8')) as unknown;
  const sc = JSON.parse(readFileSync(join(server.dataDir, 'signing_config.json'), 'utf8')) as {
    rekorTlogUrls: { majorApiVersion: number }[];
  };
  for (const v of [1, 2] as const) {
    const config = { ...sc, rekorTlogUrls: sc.rekorTlogUrls.filter((u) => u.majorApiVersion === v) };
    signingConfig[`v${v}`] = write(`signing_config.v${v}.json`, JSON.stringify(config));
    trustConfig[`v${v}`] = write(
      `trust_config.v${v}.json`,
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json', trustedRoot: root, signingConfig: config }),
    );
  }
  const token = await keyless(['dev-token', '--url', server.url, '--email', EMAIL]);
  assert.equal(token.code, 0, token.stderr);
  tokenFile = write('token', token.stdout.trim());

  const gen = await keyless(['generate-key-pair', '--output-key-prefix', join(work, 'keyless')], { COSIGN_PASSWORD: PASSWORD });
  assert.equal(gen.code, 0, gen.stderr);
  const predicate = write('predicate.json', JSON.stringify({ made: 'by keyless' }));
  const sign = async (v: Log, m: Omit<Made, 'artifact' | 'bundle'>, text: string): Promise<Made> => {
    const artifact = write(`${m.name}.txt`, text);
    const bundle = join(work, `${m.name}.sigstore.json`);
    const who = m.publicKey ? ['--key', join(work, 'keyless.key')] : ['--identity-token', tokenFile];
    const args = m.attestation
      ? ['attest-blob', artifact, '--predicate', predicate, '--bundle', bundle]
      : ['sign-blob', artifact, '--bundle', bundle];
    const r = await keyless([...args, ...who, '--signing-config', signingConfig[v], '--trusted-root', trustedRoot], {
      COSIGN_PASSWORD: PASSWORD,
    });
    assert.equal(r.code, 0, `${m.name}: ${r.stderr}`);
    return { ...m, artifact, bundle };
  };
  // Off log index 0 in both logs (see the note above).
  for (const v of ['v1', 'v2'] as const) await sign(v, { name: `warm-${v}`, attestation: false }, 'warm up\n');
  for (const v of ['v1', 'v2'] as const) {
    for (const attestation of [false, true]) {
      for (const key of [false, true]) {
        const name = `keyless-${attestation ? 'attestation' : 'blob'}-${key ? 'key' : 'identity'}-${v}`;
        made.push(
          await sign(v, { name, attestation, ...(key ? { publicKey: join(work, 'keyless.pub') } : {}) }, `${name}: signed by Keyless\n`),
        );
      }
    }
  }
});
after(async () => {
  await server?.stop();
});

test(
  `cosign ${COSIGN_VERSION} verifies Keyless's bundles (blob, attestation; identity, key pair; Rekor v1, v2) and refuses a changed artifact or signature, as Keyless does`,
  { skip: NO_COSIGN },
  async () => {
    const version = await cosign(['version']);
    assert.match(
      version.stdout + version.stderr,
      new RegExp(`GitVersion:\\s+${COSIGN_VERSION.replace(/\./g, '\\.')}`),
      `${COSIGN} is cosign ${COSIGN_VERSION}`,
    );
    const changed = write('changed.txt', 'not what was signed\n');
    assert.equal(made.length, 8);
    for (const m of made) {
      const ok = await cosignVerify(m);
      assert.equal(ok.code, 0, `cosign, ${m.name}: ${ok.stderr}`);
      assert.match(ok.stderr, /Verified OK/, m.name);
      assert.equal((await keylessVerify(m)).code, 0, m.name);
      // A changed artifact: both say no.
      assert.notEqual((await cosignVerify(m, changed)).code, 0, `cosign accepted a changed artifact for ${m.name}`);
      assert.equal((await keylessVerify(m, changed)).code, 1, m.name);
    }
    // A changed signature in a Keyless bundle: both say no.
    for (const m of made.filter((x) => x.name.endsWith('-v1') || x.publicKey)) {
      const tampered = tamperSignature(m.bundle, `${m.name}.tampered.sigstore.json`);
      assert.notEqual((await cosignVerify(m, m.artifact, tampered)).code, 0, `cosign accepted a changed signature for ${m.name}`);
      assert.equal((await keylessVerify(m, m.artifact, tampered)).code, 1, m.name);
    }
  },
);

test(
  `Keyless verifies cosign ${COSIGN_VERSION}'s bundles (identity token from the dev IdP; --key with cosign's key; Rekor v1, v2) and refuses a changed one, as cosign does; Keyless signs with cosign's encrypted key`,
  { skip: NO_COSIGN },
  async () => {
    const gen = await cosign(['generate-key-pair', '--output-key-prefix', join(work, 'cosign')], { COSIGN_PASSWORD: PASSWORD });
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(readFileSync(join(work, 'cosign.key'), 'utf8'), /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/);
    const predicate = write('cosign-predicate.json', JSON.stringify({ made: 'by cosign' }));
    const theirs: Made[] = [];
    for (const v of ['v1', 'v2'] as const) {
      for (const [kind, key] of [
        ['blob', false],
        ['attestation', false],
        ['blob', true],
      ] as const) {
        const name = `cosign-${kind}-${key ? 'key' : 'identity'}-${v}`;
        const artifact = write(`${name}.txt`, `${name}: signed by cosign\n`);
        const bundle = join(work, `${name}.sigstore.json`);
        const who = key ? ['--key', join(work, 'cosign.key')] : ['--identity-token', tokenFile];
        const args =
          kind === 'attestation'
            ? ['attest-blob', '--predicate', predicate, '--type', 'custom', '--bundle', bundle]
            : ['sign-blob', '--bundle', bundle];
        const r = await cosign([...args, '--yes', ...who, '--signing-config', signingConfig[v], '--trusted-root', trustedRoot, artifact], {
          COSIGN_PASSWORD: PASSWORD,
        });
        assert.equal(r.code, 0, `cosign ${name}: ${r.stderr}`);
        const m: Made = {
          name,
          artifact,
          bundle,
          attestation: kind === 'attestation',
          ...(key ? { publicKey: join(work, 'cosign.pub') } : {}),
        };
        const version = (
          JSON.parse(readFileSync(bundle, 'utf8')) as { verificationMaterial: { tlogEntries: { kindVersion: { version: string } }[] } }
        ).verificationMaterial.tlogEntries[0]!.kindVersion.version;
        assert.equal(version.startsWith('0.0.2'), v === 'v2', `${name} is logged in Rekor ${v} (${version})`);
        theirs.push(m);
      }
    }
    const changed = write('cosign-changed.txt', 'not what cosign signed\n');
    for (const m of theirs) {
      const ok = await keylessVerify(m);
      assert.equal(ok.code, 0, `keyless, ${m.name}: ${ok.stderr}`);
      assert.match(ok.stdout + ok.stderr, /Verified OK/);
      assert.equal((await keylessVerify(m, changed)).code, 1, m.name);
      const tampered = tamperSignature(m.bundle, `${m.name}.tampered.sigstore.json`);
      assert.equal((await keylessVerify(m, m.artifact, tampered)).code, 1, `keyless accepted a changed signature for ${m.name}`);
      assert.notEqual((await cosignVerify(m, m.artifact, tampered)).code, 0, `cosign accepted a changed signature for ${m.name}`);
    }

    // Keyless signs with cosign's own key file (scrypt + NaCl secretbox); cosign verifies.
    for (const v of ['v1', 'v2'] as const) {
      const artifact = write(`keyless-with-cosign-key-${v}.txt`, `signed by Keyless with cosign.key (${v})\n`);
      const bundle = join(work, `keyless-with-cosign-key-${v}.sigstore.json`);
      const r = await keyless(
        [
          'sign-blob',
          artifact,
          '--key',
          join(work, 'cosign.key'),
          '--bundle',
          bundle,
          '--signing-config',
          signingConfig[v],
          '--trusted-root',
          trustedRoot,
        ],
        { COSIGN_PASSWORD: PASSWORD },
      );
      assert.equal(r.code, 0, r.stderr);
      const m: Made = { name: `keyless-with-cosign-key-${v}`, artifact, bundle, attestation: false, publicKey: join(work, 'cosign.pub') };
      const ok = await cosignVerify(m);
      assert.equal(ok.code, 0, ok.stderr);
      // cosign names the key the same way: its hint and ours agree.
      const hint = (b: string) =>
        (JSON.parse(readFileSync(b, 'utf8')) as { verificationMaterial: { publicKey: { hint: string } } }).verificationMaterial.publicKey
          .hint;
      assert.equal(hint(bundle), hint(theirs.find((t) => t.name === `cosign-blob-key-${v}`)!.bundle));
    }
    const wrong = await keyless(
      [
        'sign-blob',
        made[0]!.artifact,
        '--key',
        join(work, 'cosign.key'),
        '--bundle',
        join(work, 'never.json'),
        '--signing-config',
        signingConfig.v1,
        '--trusted-root',
        trustedRoot,
      ],
      { COSIGN_PASSWORD: 'not the password' },
    );
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /cosign\.key: the password does not decrypt this key/);
  },
);

test(
  `sigstore-python ${SIGSTORE_PYTHON_VERSION} verifies Keyless's identity bundles (blob, attestation; Rekor v1, v2) with --trust-config, and refuses a changed artifact or signature`,
  { skip: NO_PYTHON },
  async () => {
    const version = await python(['--version']);
    assert.ok(
      version.stdout.includes(SIGSTORE_PYTHON_VERSION),
      `${PYTHON} has sigstore ${SIGSTORE_PYTHON_VERSION}: ${version.stdout}${version.stderr}`,
    );
    const changed = write('python-changed.txt', 'not what was signed\n');
    for (const m of made.filter((x) => !x.publicKey)) {
      const ok = await pythonVerify(m);
      assert.equal(ok.code, 0, `sigstore-python, ${m.name}: ${ok.stderr}`);
      assert.match(ok.stdout + ok.stderr, /OK: /);
      assert.notEqual((await pythonVerify(m, changed)).code, 0, `sigstore-python accepted a changed artifact for ${m.name}`);
    }
    const blob = made.find((x) => x.name === 'keyless-blob-identity-v2')!;
    const tampered = tamperSignature(blob.bundle, 'python-keyless-tampered.sigstore.json');
    assert.notEqual((await pythonVerify(blob, blob.artifact, tampered)).code, 0);
    assert.equal((await keylessVerify(blob, blob.artifact, tampered)).code, 1);
  },
);

test(
  `Keyless verifies sigstore-python ${SIGSTORE_PYTHON_VERSION}'s bundles (sign with --trust-config, Rekor v1 and v2) and refuses a changed one, as sigstore-python does`,
  { skip: NO_PYTHON },
  async () => {
    for (const v of ['v1', 'v2'] as const) {
      const name = `python-blob-identity-${v}`;
      const artifact = write(`${name}.txt`, `${name}: signed by sigstore-python\n`);
      const bundle = join(work, `${name}.sigstore.json`);
      const token = readFileSync(tokenFile, 'utf8');
      const r = await python([
        '--trust-config',
        trustConfig[v],
        'sign',
        '--rekor-version',
        v.slice(1),
        '--identity-token',
        token,
        '--bundle',
        bundle,
        artifact,
      ]);
      assert.equal(r.code, 0, `sigstore-python sign (${v}): ${r.stderr}`);
      const m: Made = { name, artifact, bundle, attestation: false };
      const ok = await keylessVerify(m);
      assert.equal(ok.code, 0, `keyless, ${name}: ${ok.stderr}`);
      const tampered = tamperSignature(bundle, `${name}.tampered.sigstore.json`);
      assert.equal((await keylessVerify(m, artifact, tampered)).code, 1);
      assert.notEqual((await pythonVerify(m, artifact, tampered)).code, 0, `sigstore-python accepted a changed signature (${v})`);
    }
  },
);
