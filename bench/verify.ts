// Verification speed: warm library throughput (Keyless vs sigstore-js @sigstore/verify,
// measured in the same run) and the wall time of one `verify-bundle` process.
// Run: node --import tsx bench/verify.ts   (after `npm run build`)
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { verify, verifySync } from '../src/verify/index.js';
import { CONFORMANCE_DIR } from '../test/support/conformance.js';

const require = createRequire(import.meta.url);
const C = CONFORMANCE_DIR;
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const artifact = readFileSync(join(C, 'a.txt'));

interface Case {
  name: string;
  bundle: Buffer;
  rootPath: string;
}
const cases: Case[] = [
  {
    name: 'happy-path-v0.3 (Rekor v1)',
    bundle: readFileSync(join(C, 'happy-path-v0.3/bundle.sigstore.json')),
    rootPath: join(C, 'trusted_root.production.json'),
  },
  {
    name: 'rekor2-happy-path (Rekor v2)',
    bundle: readFileSync(join(C, 'rekor2-happy-path/bundle.sigstore.json')),
    rootPath: join(C, 'rekor2-happy-path/trusted_root.json'),
  },
];

/** Runs `fn` for warm-up, then for DURATION_MS; returns operations per second. */
function throughput(fn: () => void): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < DURATION_MS) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

async function throughputAsync(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < DURATION_MS) {
    for (let i = 0; i < 20; i++) await fn();
    n += 20;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

function sigstoreJs(c: Case): () => void {
  const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
  const { bundleFromJSON } = require('@sigstore/bundle');
  const { TrustedRoot } = require('@sigstore/protobuf-specs');
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(c.rootPath, 'utf8')))));
  const policy = { subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } };
  // Each call parses the bundle from its JSON text, as the Keyless call below does.
  return () => verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(c.bundle.toString('utf8'))), artifact), policy);
}

const keylessPolicy = { certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER };
function keyless(c: Case): () => void {
  const root = JSON.parse(readFileSync(c.rootPath, 'utf8'));
  return () => verifySync(c.bundle, artifact, keylessPolicy, root);
}
function keylessAsync(c: Case): () => Promise<unknown> {
  const root = JSON.parse(readFileSync(c.rootPath, 'utf8'));
  return () => verify(c.bundle, artifact, keylessPolicy, root);
}
// The same bundle again and again lets the per-bundle memos (leaf certificate, SCTs,
// checkpoint signature) answer from cache; this variant pays for them every time, as a
// stream of bundles with distinct certificates would. Only trusted-root facts are cached.
function keylessAsyncCold(c: Case): () => Promise<unknown> {
  const root = JSON.parse(readFileSync(c.rootPath, 'utf8'));
  return () => verify(c.bundle, artifact, keylessPolicy, root, { memoizeBundles: false });
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`# verify benchmark — ${new Date().toISOString()} — ${cpus()[0]?.model} x${cpus().length} — node ${process.version}`);
console.log(
  `\n## warm library throughput (verifications/s, median of ${ROUNDS} alternating rounds of ${DURATION_MS} ms; bundle parsed from JSON text each time)`,
);
for (const c of cases) {
  const js = sigstoreJs(c);
  const ka = keylessAsync(c);
  const ks = keyless(c);
  const kc = keylessAsyncCold(c);
  const r = { js: [] as number[], ka: [] as number[], ks: [] as number[], kc: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    r.js.push(throughput(js));
    r.ka.push(await throughputAsync(ka));
    r.ks.push(throughput(ks));
    r.kc.push(await throughputAsync(kc));
  }
  const [mj, ma, mk, mc] = [median(r.js), median(r.ka), median(r.ks), median(r.kc)];
  console.log(
    `${c.name}: keyless await verify() without per-bundle memos ${mc.toFixed(0)}/s (${(mc / mj).toFixed(1)}x); with them (same certificate again) await verify() ${ma.toFixed(0)}/s (${(ma / mj).toFixed(1)}x), verifySync() ${mk.toFixed(0)}/s (${(mk / mj).toFixed(1)}x); sigstore-js ${mj.toFixed(0)}/s`,
  );
}

console.log('\n## one process, wall time (median of 21 runs each, the commands interleaved)');
const bin = join(import.meta.dirname, '..', 'bin', 'keyless');
const commands: Record<string, string[]> = {
  'node -e 0': [process.execPath, '-e', '0'],
  'keyless verify-bundle happy-path-v0.3': [
    process.execPath,
    bin,
    'verify-bundle',
    '--bundle',
    join(C, 'happy-path-v0.3/bundle.sigstore.json'),
    '--certificate-identity',
    IDENTITY,
    '--certificate-oidc-issuer',
    ISSUER,
    join(C, 'a.txt'),
  ],
  'keyless verify-bundle rekor2-happy-path': [
    process.execPath,
    bin,
    'verify-bundle',
    '--bundle',
    join(C, 'rekor2-happy-path/bundle.sigstore.json'),
    '--certificate-identity',
    IDENTITY,
    '--certificate-oidc-issuer',
    ISSUER,
    '--trusted-root',
    join(C, 'rekor2-happy-path/trusted_root.json'),
    join(C, 'a.txt'),
  ],
  'sigstore-js equivalent happy-path-v0.3 (bench/verify-sigstore-js.cjs)': [
    process.execPath,
    join(import.meta.dirname, 'verify-sigstore-js.cjs'),
    join(C, 'happy-path-v0.3/bundle.sigstore.json'),
    join(C, 'trusted_root.production.json'),
    join(C, 'a.txt'),
    IDENTITY,
    ISSUER,
  ],
};
const times: Record<string, number[]> = {};
for (let i = 0; i < 21; i++) {
  for (const [name, args] of Object.entries(commands)) {
    const t = performance.now();
    const r = spawnSync(args[0]!, args.slice(1));
    (times[name] ??= []).push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  }
}
for (const [name, ts] of Object.entries(times)) console.log(`${name}: ${median(ts).toFixed(0)} ms`);
