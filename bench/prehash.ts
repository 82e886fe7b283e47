// Digest-signature verification per second, native addon vs the JavaScript fallback, in one
// run (alternating rounds), for every supported key type.
// node --import tsx bench/prehash.ts [--ms 1000] [--rounds 3]
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { loadPrehashAddon, type DigestVerifyFunction } from '../src/core/prehash.js';
import { verifyDigestJs } from '../src/core/prehash-js.js';
import type { HashAlgorithm } from '../src/core/hash.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): number => Number(args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const MS = opt('ms', '1000');
const ROUNDS = opt('rounds', '3');

const keys = [
  ['ECDSA P-256 / SHA-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'sha256'],
  ['ECDSA P-384 / SHA-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384'],
  ['ECDSA P-521 / SHA-512', generateKeyPairSync('ec', { namedCurve: 'P-521' }), 'sha512'],
  ['RSA-2048 PKCS#1 v1.5 / SHA-256', generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256'],
  ['RSA-4096 PKCS#1 v1.5 / SHA-256', generateKeyPairSync('rsa', { modulusLength: 4096 }), 'sha256'],
] as const;

function perSecond(verify: DigestVerifyFunction, spki: Buffer, digest: Buffer, sig: Buffer, hash: HashAlgorithm): number {
  if (!verify(spki, digest, sig, hash)) throw new Error('the signature must verify');
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < MS) {
    verify(spki, digest, sig, hash);
    n++;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const addon = loadPrehashAddon();
console.log(
  `# prehash verify — ${new Date().toISOString()} — ${cpus()[0]?.model} x${cpus().length} — node ${process.version} — load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(`verifications/s, median of ${ROUNDS} alternating rounds of ${MS} ms${addon ? '' : ' (addon not built: JavaScript only)'}`);
for (const [name, kp, hash] of keys) {
  const message = Buffer.from('bench');
  const digest = createHash(hash).update(message).digest();
  const sig = sign(hash, message, kp.privateKey);
  const spki = kp.publicKey.export({ format: 'der', type: 'spki' });
  const a: number[] = [];
  const j: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (addon) a.push(perSecond(addon, spki, digest, sig, hash));
    j.push(perSecond(verifyDigestJs, spki, digest, sig, hash));
  }
  const js = median(j);
  console.log(
    addon
      ? `${name}: addon ${median(a).toFixed(0)}/s, JavaScript ${js.toFixed(0)}/s (${(median(a) / js).toFixed(1)}x)`
      : `${name}: JavaScript ${js.toFixed(0)}/s`,
  );
}
