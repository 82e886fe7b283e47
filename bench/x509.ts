// X.509 primitives, side by side with sigstore-js (@sigstore/core, @sigstore/verify) in
// the same process: parse a leaf, verify its SCT, verify an RFC 3161 token; and the
// building side the CA, CT log and TSA use per request.
// Run: node --import tsx bench/x509.ts
import { softwareSigner } from '../src/core/signer.js';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createHash } from 'node:crypto';
import { RFC3161Timestamp, X509Certificate as SigstoreX509 } from '@sigstore/core';
import { verifySCTs } from '@sigstore/verify/dist/key/sct.js';
import { verifyCertificateChain as verifyPeerChain } from '@sigstore/verify/dist/key/certificate.js';
import { verifyRFC3161Timestamp } from '@sigstore/verify/dist/timestamp/tsa.js';
import { toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  loadTrustMaterial,
  parseCertificate,
  verifyCertificateChain,
  verifyEmbeddedScts,
  verifyTimestampToken,
} from '../src/x509/index.js';
import {
  createCaChain,
  createTimestampResponse,
  createTsaChain,
  embedScts,
  generateKey,
  issuePrecertificate,
} from '../src/x509/build/index.js';
import { CtLog } from '../src/services/ctlog/index.js';
import { join } from 'node:path';
import { CONFORMANCE_DIR } from '../test/support/conformance.js';

// The machine is shared: every figure is the median of 7 short rounds, and the two sides
// of a comparison run in alternating rounds so that load hits both alike.
const ROUNDS = 7;
const ROUND_MS = 250;

async function measure(fn: () => unknown | Promise<unknown>): Promise<number> {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ROUND_MS) {
    const r = fn();
    if (r instanceof Promise) await r;
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the named functions in alternating rounds and prints the median rate of each. */
async function compare(cases: Array<[string, () => unknown | Promise<unknown>]>): Promise<void> {
  for (const [, fn] of cases) for (let i = 0; i < 30; i++) await fn();
  const rates = cases.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < cases.length; i++) rates[i]!.push(await measure(cases[i]![1]));
  cases.forEach(([name], i) => console.log(`${name.padEnd(64)} ${median(rates[i]!).toFixed(0).padStart(8)} /s`));
}

const dir = join(CONFORMANCE_DIR, 'rekor2-happy-path');
const bundle = JSON.parse(readFileSync(`${dir}/bundle.sigstore.json`, 'utf8'));
const rootJson = JSON.parse(readFileSync(`${dir}/trusted_root.json`, 'utf8'));
const leafDer = Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');
const sig = Buffer.from(bundle.messageSignature.signature, 'base64');
const tsDer = Buffer.from(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp, 'base64');

console.log(`# ${new Date().toISOString()} node ${process.version} ${cpus()[0]?.model} x${cpus().length}`);
console.log('## verification (the staging leaf, chain and TSA token of rekor2-happy-path)');
const tm = loadTrustMaterial(rootJson);
const leaf0 = parseCertificate(leafDer);
const { path } = verifyCertificateChain(leaf0, tm.certificateAuthorities, leaf0.notBefore);
const peerTm = toTrustMaterial(TrustedRoot.fromJSON(rootJson));
const peerIssuer = SigstoreX509.parse(Buffer.from(path[1]!.der));

await compare([
  ['keyless parseCertificate', () => parseCertificate(leafDer)],
  ['sigstore-js X509Certificate.parse', () => SigstoreX509.parse(leafDer)],
]);
await compare([
  [
    'keyless parse + chain (P-384 leaf signature) + SCT',
    () => {
      const leaf = parseCertificate(leafDer);
      const c = verifyCertificateChain(leaf, tm.certificateAuthorities, leaf.notBefore);
      verifyEmbeddedScts(leaf, c.path[1]!, tm.ctLogs);
    },
  ],
  [
    'sigstore-js parse + verifyCertificateChain + verifySCTs',
    () => {
      const leaf = SigstoreX509.parse(leafDer);
      const p = verifyPeerChain(leaf.notBefore, leaf, peerTm.certificateAuthorities);
      verifySCTs(leaf, p[1]!, peerTm.ctlogs);
    },
  ],
]);
await compare([
  ['keyless SCT only (parse + verify)', () => verifyEmbeddedScts(parseCertificate(leafDer), path[1]!, tm.ctLogs)],
  ['sigstore-js SCT only (parse + verifySCTs)', () => verifySCTs(SigstoreX509.parse(leafDer), peerIssuer, peerTm.ctlogs)],
]);
await compare([
  ['keyless verifyTimestampToken (P-384 TSA key)', () => verifyTimestampToken(tsDer, sig, tm.timestampAuthorities)],
  [
    'sigstore-js RFC3161Timestamp.parse + verifyRFC3161Timestamp',
    () => verifyRFC3161Timestamp(RFC3161Timestamp.parse(tsDer), sig, peerTm.timestampAuthorities),
  ],
]);

console.log('## building (P-256 keys, as the server defaults)');
const ca = createCaChain();
const ct = new CtLog({ signer: softwareSigner(generateKey().privateKey), roots: [ca.root.certificate] });
const leafKey = generateKey().publicKey.export({ format: 'der', type: 'spki' });
const profile = {
  publicKey: leafKey,
  san: { type: 'email' as const, value: 'bench@example.com' },
  sigstoreExtensions: { '1.3.6.1.4.1.57264.1.1': 'https://issuer', '1.3.6.1.4.1.57264.1.8': 'https://issuer' },
};
const tsa = createTsaChain();
const req = {
  hashAlgorithm: 'sha256' as const,
  hashedMessage: createHash('sha256').update(sig).digest(),
  certReq: false,
  hasExtensions: false,
};
await compare([
  ['precertificate (1 P-256 signature)', () => issuePrecertificate(profile, ca.intermediate)],
  [
    'precert + CT addPreChain (chain checked) + final certificate',
    async () => {
      const pre = issuePrecertificate(profile, ca.intermediate);
      embedScts(pre, [await ct.addPreChain([pre, ca.intermediate.certificate, ca.root.certificate])], ca.intermediate.key);
    },
  ],
  [
    'precert + CT addTrustedPrecertificate + final certificate',
    async () => {
      const pre = issuePrecertificate(profile, ca.intermediate);
      embedScts(pre, [await ct.addTrustedPrecertificate(pre, ca.intermediate.certificate)], ca.intermediate.key);
    },
  ],
  ['TSA createTimestampResponse (P-256)', () => createTimestampResponse(req, tsa.signer)],
]);
