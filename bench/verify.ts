// Verification speed: warm library throughput (Keyless vs sigstore-js @sigstore/verify,
// measured in the same run) and the wall time of one `verify-bundle` process.
// Run: node --import tsx bench/verify.ts   (after `npm run build`)
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { verify, verifySync } from '../src/verify/index.js';

const require = createRequire(import.meta.url);
const C = process.env.KEYLESS_CONFORMANCE_DIR ?? '/work/shared/conformance';
const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const artifact = readFileSync(join(C, 'a.txt'));

interface Case { name: string; bundle: Buffer; rootPath: string }
const cases: Case[] = [
  { name: 'happy-path-v0.3 (Rekor v1)', bundle: readFileSync(join(C, 'happy-path-v0.3/bundle.sigstore.json')), rootPath: join(C, 'trusted_root.production.json') },
  { name: 'rekor2-happy-path (Rekor v2)', bundle: readFileSync(join(C, 'rekor2-happy-path/bundle.sigstore.json')), rootPath: join(C, 'rekor2-happy-path/trusted_root.json') },
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

function wallMs(args: string[], runs = 20): number {
  spawnSync(args[0]!, args.slice(1));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(args[0]!, args.slice(1));
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

console.log(`# verify benchmark — ${new Date().toISOString()} — ${cpus()[0]?.model} x${cpus().length} — node ${process.version}`);
console.log('\n## warm library throughput (verifications/s, bundle parsed from JSON text each time)');
for (const c of cases) {
  const js = throughput(sigstoreJs(c));
  const kl = await throughputAsync(keylessAsync(c));
  const ks = throughput(keyless(c));
  console.log(`${c.name}: keyless await verify() ${kl.toFixed(0)}/s (${(kl / js).toFixed(1)}x), keyless verifySync() ${ks.toFixed(0)}/s (${(ks / js).toFixed(1)}x), sigstore-js ${js.toFixed(0)}/s`);
}

console.log('\n## one process, wall time (median of 20 runs)');
const bin = join(import.meta.dirname, '..', 'bin', 'keyless');
const happy = cases[0]!;
const nodeBare = wallMs([process.execPath, '-e', '0']);
const kl = wallMs([process.execPath, bin, 'verify-bundle', '--bundle', join(C, 'happy-path-v0.3/bundle.sigstore.json'),
  '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, join(C, 'a.txt')]);
const kl2 = wallMs([process.execPath, bin, 'verify-bundle', '--bundle', join(C, 'rekor2-happy-path/bundle.sigstore.json'),
  '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--trusted-root', join(C, 'rekor2-happy-path/trusted_root.json'), join(C, 'a.txt')]);
const js = wallMs([process.execPath, join(import.meta.dirname, 'verify-sigstore-js.cjs'), join(C, 'happy-path-v0.3/bundle.sigstore.json'), happy.rootPath, join(C, 'a.txt'), IDENTITY, ISSUER]);
console.log(`node -e 0: ${nodeBare.toFixed(0)} ms`);
console.log(`keyless verify-bundle happy-path-v0.3: ${kl.toFixed(0)} ms`);
console.log(`keyless verify-bundle rekor2-happy-path: ${kl2.toFixed(0)} ms`);
console.log(`sigstore-js equivalent (bench/verify-sigstore-js.cjs) happy-path-v0.3: ${js.toFixed(0)} ms`);
