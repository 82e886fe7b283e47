// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// `keyless verify-blob FILE... --bundle-dir DIR` and `--manifest FILE` on real bundles: files
// signed by `keyless sign-blob --output-dir` against a real `keyless serve` (two identities),
// then verified in one process, in worker threads and in the main thread (--jobs 1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, keyless, BIN, type Serve } from '../sign/serve-helper.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';

const ALICE = 'alice@example.com';
const MALLORY = 'mallory@example.com';
const N = 20;
let serve: Serve;
let issuer: string;
let work: string;
/** The files alice signed (bundles in work/bundles), then three mallory signed (same directory). */
let files: string[];
let mallorys: string[];
let bundles: string;

/** Progress-bar drawing: a carriage return, an erase-line escape or the bar itself. */
// eslint-disable-next-line no-control-regex -- the erase-line escape is what is looked for
const PROGRESS = /\r|\x1b\[K|\[#+-*\]|\[-+\]/;

async function token(email: string): Promise<string> {
  const t = await keyless(['dev-token', '--url', serve.url, '--email', email]);
  assert.equal(t.code, 0, t.stderr);
  return t.stdout.trim();
}

async function signAll(paths: string[], email: string, outputDir: string): Promise<void> {
  const r = await keyless([
    'sign-blob',
    ...paths,
    '--output-dir',
    outputDir,
    '--signing-config',
    serve.signingConfig(1),
    '--trusted-root',
    serve.trustedRoot,
    '--identity-token',
    await token(email),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, PROGRESS, 'no progress bar when stderr is not a terminal');
}

const policy = () => ['--certificate-identity', ALICE, '--certificate-oidc-issuer', issuer, '--trusted-root', serve.trustedRoot];

before(async () => {
  serve = await startServe();
  work = mkdtempSync(join(tmpdir(), 'keyless-verify-many-'));
  issuer = JSON.parse(Buffer.from((await token(ALICE)).split('.')[1]!, 'base64url').toString()).iss as string;
  mkdirSync(join(work, 'dist'));
  files = Array.from({ length: N }, (_, i) => {
    const p = join(work, 'dist', `pkg-${i}.tar`);
    writeFileSync(p, `release artifact ${i}\n`.repeat(i + 1));
    return p;
  });
  mallorys = Array.from({ length: 3 }, (_, i) => {
    const p = join(work, 'dist', `extra-${i}.bin`);
    writeFileSync(p, `signed by someone else ${i}\n`);
    return p;
  });
  bundles = join(work, 'bundles');
  await signAll(files, ALICE, bundles);
  await signAll(mallorys, MALLORY, bundles);
});
after(async () => {
  await serve?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('many good files: exit 0, one verdict per file in input order, a summary on stderr, no progress bar off a terminal', async () => {
  for (const jobs of [[], ['--jobs', '1'], ['--jobs', '3']]) {
    const r = await keyless(['verify-blob', ...files, '--bundle-dir', bundles, ...policy(), ...jobs]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, N);
    lines.forEach((l, i) => assert.equal(l.startsWith(`${files[i]}: Verified OK: ${ALICE} (issuer ${issuer}), signed at `), true, l));
    assert.equal(r.stderr, `Verified ${N} files\n`);
    assert.doesNotMatch(r.stderr, PROGRESS);
  }
});

test('one tampered artifact among many: exit 1, that file named as failed, the others verified', async () => {
  const dir = join(work, 'tampered');
  mkdirSync(dir);
  const copies = files.map((f, i) => {
    const p = join(dir, `pkg-${i}.tar`);
    copyFileSync(f, p);
    return p;
  });
  writeFileSync(copies[7]!, 'not what was signed\n');
  for (const jobs of [[], ['--jobs', '1']]) {
    const r = await keyless(['verify-blob', ...copies, '--bundle-dir', bundles, ...policy(), ...jobs]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, N);
    assert.match(lines[7]!, new RegExp(`^${copies[7]}: FAILED: artifact\\.digest: `));
    assert.equal(lines.filter((l) => l.includes(': Verified OK: ')).length, N - 1);
    assert.equal(r.stderr, `1 of ${N} files failed verification: ${copies[7]}\n`);
  }
});

test('a missing bundle is that file failing (exit 1); .sigstore and .bundle names are found too', async () => {
  const dir = join(work, 'names');
  mkdirSync(dir);
  copyFileSync(join(bundles, 'pkg-0.tar.sigstore.json'), join(dir, 'pkg-0.tar.sigstore.json'));
  copyFileSync(join(bundles, 'pkg-1.tar.sigstore.json'), join(dir, 'pkg-1.tar.sigstore'));
  copyFileSync(join(bundles, 'pkg-2.tar.sigstore.json'), join(dir, 'pkg-2.tar.bundle'));
  const ok = await keyless(['verify-blob', files[0]!, files[1]!, files[2]!, '--bundle-dir', dir, ...policy()]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const r = await keyless(['verify-blob', '--json', files[0]!, files[3]!, files[1]!, '--bundle-dir', dir, ...policy()]);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout) as Array<Record<string, any>>;
  assert.deepEqual(
    report.map((e) => e.ok),
    [true, false, true],
  );
  assert.equal(report[1]!.artifact, files[3]);
  assert.equal(report[1]!.error.code, 'BUNDLE_NOT_FOUND');
  assert.match(report[1]!.error.message, /pkg-3\.tar\.sigstore\.json, pkg-3\.tar\.sigstore, pkg-3\.tar\.bundle/);
  assert.equal(report[2]!.bundle, join(dir, 'pkg-1.tar.sigstore'));
  const text = await keyless(['verify-blob', files[3]!, files[0]!, '--bundle-dir', dir, ...policy()]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, new RegExp(`^${files[3]}: FAILED: no bundle for ${files[3]} in --bundle-dir ${dir}`));
});

test('--json: an array with one report per file (artifact, bundle, result, every check); nothing else on stdout', async () => {
  const r = await keyless(['verify-blob', '--json', ...files.slice(0, 5), '--bundle-dir', bundles, ...policy()]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Array<Record<string, any>>;
  assert.equal(report.length, 5);
  report.forEach((e, i) => {
    assert.equal(e.artifact, files[i]);
    assert.equal(e.bundle, join(bundles, `pkg-${i}.tar.sigstore.json`));
    assert.equal(e.ok, true);
    assert.equal(e.result.identity, ALICE);
    assert.equal(e.result.issuer, issuer);
    assert.match(e.result.signingTime, /^\d{4}-\d\d-\d\dT/);
    assert.ok(e.checks.length > 5 && e.checks.every((c: { ok: boolean }) => c.ok));
    assert.ok(e.checks.some((c: { check: string }) => c.check === 'artifact.digest'));
  });
});

test('--manifest: ARTIFACT [BUNDLE] lines relative to the manifest, comments, a quoted path with a space; a malformed line is exit 2', async () => {
  const dir = join(work, 'manifest');
  mkdirSync(join(dir, 'sigs'), { recursive: true });
  copyFileSync(files[0]!, join(dir, 'my file.tar'));
  copyFileSync(join(bundles, 'pkg-0.tar.sigstore.json'), join(dir, 'sigs', 'first.json'));
  copyFileSync(files[1]!, join(dir, 'pkg-1.tar'));
  copyFileSync(join(bundles, 'pkg-1.tar.sigstore.json'), join(dir, 'pkg-1.tar.sigstore.json'));
  const manifest = join(dir, 'SIGNATURES');
  writeFileSync(manifest, `# release 1.0\n"my file.tar"   sigs/first.json\n\npkg-1.tar\n`);
  // Run from elsewhere: the paths are the manifest's.
  const r = await keyless(['verify-blob', '--manifest', manifest, ...policy()]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(
    r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.slice(0, l.indexOf(': Verified OK'))),
    [join(dir, 'my file.tar'), join(dir, 'pkg-1.tar')],
  );
  // Files on the command line and a manifest together; a listed bundle that is missing fails that file.
  writeFileSync(manifest, `pkg-1.tar\n"my file.tar" sigs/none.json\n`);
  const mixed = await keyless(['verify-blob', files[2]!, '--bundle-dir', bundles, '--manifest', manifest, ...policy()]);
  assert.equal(mixed.code, 1);
  const verdicts = mixed.stdout.trimEnd().split('\n');
  assert.equal(verdicts.length, 3, mixed.stdout);
  assert.match(verdicts[2]!, /my file\.tar: FAILED: the bundle .*none\.json listed for .*my file\.tar is missing$/);
  writeFileSync(manifest, `a b c\n`);
  const bad = await keyless(['verify-blob', '--manifest', manifest, ...policy()]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: manifest .*SIGNATURES line 1 is not ARTIFACT \[BUNDLE\]/);
  const none = await keyless(['verify-blob', '--manifest', join(dir, 'absent'), ...policy()]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /cannot read manifest .*absent/);
});

test('the identity policy applies to every file: files another identity signed fail by name; a regexp admitting both passes', async () => {
  const all = [...files.slice(0, 4), ...mallorys];
  const r = await keyless(['verify-blob', '--json', ...all, '--bundle-dir', bundles, ...policy()]);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout) as Array<Record<string, any>>;
  assert.deepEqual(
    report.filter((e) => !e.ok).map((e) => [e.artifact, e.error.code]),
    mallorys.map((m) => [m, 'POLICY_IDENTITY_MISMATCH']),
  );
  const text = await keyless(['verify-blob', ...all, '--bundle-dir', bundles, ...policy()]);
  assert.equal(text.stderr, `3 of 7 files failed verification: ${mallorys.join(', ')}\n`);
  for (const m of mallorys) assert.match(text.stdout, new RegExp(`^${m}: FAILED: .*${MALLORY}`, 'm'));
  const both = await keyless([
    'verify-blob',
    ...all,
    '--bundle-dir',
    bundles,
    '--certificate-identity-regexp',
    '(alice|mallory)@example\\.com',
    '--certificate-oidc-issuer',
    issuer,
    '--trusted-root',
    serve.trustedRoot,
  ]);
  assert.equal(both.code, 0, both.stdout);
});

test('usage errors are exit 2; the single-file form is unchanged', async () => {
  const single = await keyless(['verify-blob', files[0]!, '--bundle', join(bundles, 'pkg-0.tar.sigstore.json'), ...policy()]);
  assert.equal(single.code, 0, single.stderr);
  assert.match(single.stdout, /^Verified OK: /);
  const cases: [string[], RegExp][] = [
    [[files[0]!, files[1]!], /several files need --bundle-dir DIR/],
    [[files[0]!, files[1]!, '--bundle', join(bundles, 'pkg-0.tar.sigstore.json')], /--bundle names one bundle for one file/],
    [[files[0]!, '--bundle-dir', join(work, 'absent')], /--bundle-dir .*absent is not a directory/],
    [['-', files[0]!, '--bundle-dir', bundles], /standard input \(-\) can be verified only alone/],
    [[files[0]!, files[1]!, '--bundle-dir', bundles, '--jobs', '0'], /--jobs 0 is not a whole number/],
    [[files[0]!], /give --bundle FILE \(or --bundle-dir DIR or --manifest FILE/],
  ];
  for (const [args, message] of cases) {
    const r = await keyless(['verify-blob', ...args, ...policy()]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
  const noIdentity = await keyless(['verify-blob', files[0]!, files[1]!, '--bundle-dir', bundles]);
  assert.equal(noIdentity.code, 2);
});

test('verify-blob-attestation takes --bundle-dir too', async () => {
  const dir = join(work, 'attestations');
  mkdirSync(dir);
  const predicate = join(work, 'predicate.json');
  writeFileSync(predicate, JSON.stringify({ builder: { id: 'https://example.com/builder' } }));
  const tok = await token(ALICE);
  for (const f of files.slice(0, 2)) {
    const r = await keyless([
      'attest-blob',
      f,
      '--predicate',
      predicate,
      '--type',
      'slsaprovenance1',
      '--bundle',
      join(dir, `${f.split('/').pop()}.sigstore.json`),
      '--signing-config',
      serve.signingConfig(1),
      '--trusted-root',
      serve.trustedRoot,
      '--identity-token',
      tok,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const ok = await keyless([
    'verify-blob-attestation',
    '--json',
    ...files.slice(0, 2),
    '--bundle-dir',
    dir,
    '--type',
    'slsaprovenance1',
    ...policy(),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const report = JSON.parse(ok.stdout) as Array<Record<string, any>>;
  assert.equal(report[1]!.statement.predicateType, 'https://slsa.dev/provenance/v1');
  const wrongType = await keyless([
    'verify-blob-attestation',
    ...files.slice(0, 2),
    '--bundle-dir',
    dir,
    '--type',
    'spdxjson',
    ...policy(),
  ]);
  assert.equal(wrongType.code, 1);
  assert.equal(wrongType.stdout.match(/FAILED/g)?.length, 2);
});

/** `script` (util-linux) runs the command on a pseudo-terminal: stdout and stderr are a TTY. */
function onTerminal(args: string[]): { status: number | null; output: string } {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = spawnSync('script', ['-qec', [process.execPath, BIN, ...args].map(quote).join(' '), '/dev/null'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.error, undefined, 'util-linux script is needed for the terminal test');
  return { status: r.status, output: r.stdout };
}

/** What stays on the screen: each line from its last erase-line escape on. */
function visibleLines(output: string): string[] {
  return output
    .split('\n')
    .map((l) => {
      const at = l.lastIndexOf('\x1b[K');
      return (at < 0 ? l : l.slice(at + 3)).replace(/\r$/, '');
    })
    .filter((l) => l !== '');
}

test('on a terminal a progress bar is drawn on stderr, and erased before the summary', () => {
  const r = onTerminal(['verify-blob', ...files, '--bundle-dir', bundles, ...policy()]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /verifying \[[#-]+\] +\d+% \d+\/20 files/);
  const seen = visibleLines(r.output);
  assert.equal(seen.length, N + 1, seen.join('\n'));
  assert.equal(seen.filter((l) => l.includes(': Verified OK: ')).length, N);
  assert.equal(seen[N], 'Verified 20 files');
  // The same command piped: not a byte of it.
  const piped = spawnSync(process.execPath, [BIN, 'verify-blob', ...files, '--bundle-dir', bundles, ...policy()], { encoding: 'utf8' });
  assert.equal(piped.status, 0);
  assert.doesNotMatch(piped.stderr + piped.stdout, PROGRESS);
});

test('sign-blob draws its bar on a terminal only', async () => {
  const out = join(work, 'signed-on-tty');
  const r = onTerminal([
    'sign-blob',
    ...files.slice(0, 4),
    '--output-dir',
    out,
    '--signing-config',
    serve.signingConfig(1),
    '--trusted-root',
    serve.trustedRoot,
    '--identity-token',
    await token(ALICE),
  ]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /signing \[[#-]+\] +\d+% [\d.]+ B\/[\d.]+ B/);
  const seen = visibleLines(r.output);
  assert.ok(seen.some((l) => l.startsWith('Wrote 4 bundles to ')));
  assert.ok(!seen.some((l) => l.includes('signing [')), seen.join('\n'));
  renameSync(out, `${out}.done`);
});

test('KEYLESS_TRUSTED_ROOT stands in for --trusted-root; with another root, each file says which authority it does not know', async () => {
  const identity = ['--certificate-identity', ALICE, '--certificate-oidc-issuer', issuer];
  const env = await keyless(['verify-blob', ...files.slice(0, 3), '--bundle-dir', bundles, ...identity], {
    KEYLESS_TRUSTED_ROOT: serve.trustedRoot,
  });
  assert.equal(env.code, 0, env.stdout + env.stderr);
  const other = join(CONFORMANCE_DIR, 'trusted_root.production.json');
  const r = await keyless(['verify-blob', ...files.slice(0, 3), '--bundle-dir', bundles, ...identity, '--trusted-root', other]);
  assert.equal(r.code, 1);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  for (const [i, l] of lines.entries())
    assert.ok(
      l.startsWith(`${files[i]}: FAILED: its certificate's issuer (`) && l.includes(`not in the trusted root in use (${other})`),
      l,
    );
});

test('-d prints every check of every file on stderr, the verdicts stay on stdout; --insecure-ignore-sct warns once', async () => {
  const r = await keyless(['verify-blob', '-d', '--insecure-ignore-sct', ...files.slice(0, 3), '--bundle-dir', bundles, ...policy()]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split('\n').length, 3);
  for (const f of files.slice(0, 3)) assert.match(r.stderr, new RegExp(`^${f}: debug: ok +artifact\\.digest`, 'm'));
  assert.equal(r.stderr.match(/WARNING: --insecure-ignore-sct/g)?.length, 1);
});

test('a file larger than the in-memory limit is streamed (its digest verified) beside small ones; a change in its last byte fails it', async () => {
  const dir = join(work, 'large');
  mkdirSync(dir);
  const large = join(dir, 'large.bin');
  const bytes = Buffer.alloc(17 * 1024 * 1024, 7); // above ARTIFACT_IN_MEMORY_BYTES (16 MiB)
  writeFileSync(large, bytes);
  const out = join(dir, 'bundles');
  await signAll([large, files[0]!], ALICE, out);
  const ok = await keyless(['verify-blob', large, files[0]!, '--bundle-dir', out, ...policy()]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  bytes[bytes.length - 1] = 8;
  writeFileSync(large, bytes);
  const bad = await keyless(['verify-blob', large, files[0]!, '--bundle-dir', out, ...policy()]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, new RegExp(`^${large}: FAILED: artifact\\.digest`, 'm'));
});
