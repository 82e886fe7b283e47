// X.509 primitives, side by side with sigstore-js (@sigstore/core, @sigstore/verify) in
// the same process: parse a leaf, verify its SCT, verify an RFC 3161 token; and the
// building side the CA, CT log and TSA use per request.
// Run: node --import tsx bench/x509.ts
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createHash } from 'node:crypto';
import { RFC3161Timestamp, X509Certificate as SigstoreX509 } from '@sigstore/core';
import { verifySCTs } from '@sigstore/verify/dist/key/sct.js';
import { verifyRFC3161Timestamp } from '@sigstore/verify/dist/timestamp/tsa.js';
import { toTrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { loadTrustMaterial, parseCertificate, verifyCertificateChain, verifyEmbeddedScts, verifyTimestampToken } from '../src/x509/index.js';
import { createCaChain, createTimestampResponse, createTsaChain, embedScts, generateKey, issuePrecertificate } from '../src/x509/build/index.js';
import { CtLog } from '../src/services/ctlog/index.js';

function rate(name: string, fn: () => unknown, ms = 1500): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
  }
  const perSec = n / ((performance.now() - start) / 1000);
  console.log(`${name.padEnd(64)} ${perSec.toFixed(0).padStart(8)} /s`);
  return perSec;
}

async function rateAsync(name: string, fn: () => Promise<unknown>, ms = 1500): Promise<number> {
  for (let i = 0; i < 50; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await fn();
    n++;
  }
  const perSec = n / ((performance.now() - start) / 1000);
  console.log(`${name.padEnd(64)} ${perSec.toFixed(0).padStart(8)} /s`);
  return perSec;
}

const dir = '/work/shared/conformance/rekor2-happy-path';
const bundle = JSON.parse(readFileSync(`${dir}/bundle.sigstore.json`, 'utf8'));
const rootJson = JSON.parse(readFileSync(`${dir}/trusted_root.json`, 'utf8'));
const leafDer = Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64');
const sig = Buffer.from(bundle.messageSignature.signature, 'base64');
const tsDer = Buffer.from(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp, 'base64');

console.log(`# ${new Date().toISOString()} node ${process.version} ${cpus()[0]?.model} x${cpus().length}`);
console.log('## verification (production leaf and TSA token of rekor2-happy-path)');
const tm = loadTrustMaterial(rootJson);
const leaf0 = parseCertificate(leafDer);
const { path } = verifyCertificateChain(leaf0, tm.certificateAuthorities, leaf0.notBefore);
const peerTm = toTrustMaterial(TrustedRoot.fromJSON(rootJson));
const peerIssuer = SigstoreX509.parse(Buffer.from(path[1]!.der));

rate('keyless parseCertificate', () => parseCertificate(leafDer));
rate('sigstore-js X509Certificate.parse', () => SigstoreX509.parse(leafDer));
rate('keyless parse + chain (P-384 leaf signature) + SCT', () => {
  const leaf = parseCertificate(leafDer);
  const c = verifyCertificateChain(leaf, tm.certificateAuthorities, leaf.notBefore);
  verifyEmbeddedScts(leaf, c.path[1]!, tm.ctLogs);
});
rate('keyless SCT only (parse + verify)', () => verifyEmbeddedScts(parseCertificate(leafDer), path[1]!, tm.ctLogs));
rate('sigstore-js SCT only (parse + verifySCTs)', () => verifySCTs(SigstoreX509.parse(leafDer), peerIssuer, peerTm.ctlogs));
rate('keyless verifyTimestampToken (P-384 TSA)', () => verifyTimestampToken(tsDer, sig, tm.timestampAuthorities));
rate('sigstore-js RFC3161Timestamp.parse + verifyRFC3161Timestamp', () => verifyRFC3161Timestamp(RFC3161Timestamp.parse(tsDer), sig, peerTm.timestampAuthorities));

console.log('## building (P-256 keys, as the server defaults)');
const ca = createCaChain();
const ct = new CtLog({ privateKey: generateKey().privateKey, roots: [ca.root.certificate] });
const leafKey = generateKey().publicKey;
const profile = { publicKey: leafKey, san: { type: 'email' as const, value: 'bench@example.com' }, sigstoreExtensions: { '1.3.6.1.4.1.57264.1.1': 'https://issuer', '1.3.6.1.4.1.57264.1.8': 'https://issuer' } };
rate('precertificate (1 P-256 signature)', () => issuePrecertificate(profile, ca.intermediate));
await rateAsync('precert + CT add-pre-chain in-process + final certificate', async () => {
  const pre = issuePrecertificate(profile, ca.intermediate);
  const sct = await ct.addPreChain([pre, ca.intermediate.certificate, ca.root.certificate]);
  embedScts(pre, [sct], ca.intermediate.privateKey);
});
const tsa = createTsaChain();
const req = { hashAlgorithm: 'sha256' as const, hashedMessage: createHash('sha256').update(sig).digest(), certReq: false, hasExtensions: false };
rate('TSA createTimestampResponse (P-256)', () => createTimestampResponse(req, tsa.signer));
