// CA throughput: certificates issued per second (token check, PoP, precertificate, SCT
// from the in-process CT log, final certificate), first without HTTP, then through HTTP
// on loopback with concurrent keep-alive clients. Run: node --import tsx bench/ca-signing-cert.ts
import { request, Agent } from 'node:http';
import { cpus } from 'node:os';
import { TokenVerifier } from '../src/oidc/index.js';
import { startStack, emailClaims, token, ecKey, publicKeyRequest } from '../test/ca/helpers.js';
import { CertificateAuthority, inProcessCtSubmitter } from '../src/services/ca/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { initializeCA, initializeCTLog, fulcioHandler } from '@sigstore/mock';

const stack = await startStack();
const key = ecKey();
// Distinct tokens, as in real flows (the verifier must not get a free ride on one token).
const bodies: string[] = [];
for (let i = 0; i < 2000; i++) bodies.push(JSON.stringify(publicKeyRequest(await token(stack, emailClaims(stack, { jti: `t${i}` })), key, 'dev@example.com')));

// 1. In-process: the CA's own work.
const ca = new CertificateAuthority({
  issuers: stack.issuers, issuer: stack.chain.intermediate, parents: [stack.chain.root.certificate], submitToCtLog: inProcessCtSubmitter(stack.ctLog),
});
const verifier = new TokenVerifier(stack.issuers);
let lastCpuPerOp = 0;
async function inProcess(seconds: number, concurrency: number): Promise<number> {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      await ca.signingCertificate(JSON.parse(bodies[n % bodies.length]!), undefined);
      n++;
    }
  }));
  const cpu = process.cpuUsage(cpu0);
  lastCpuPerOp = (cpu.user + cpu.system) / n / 1000;
  return n / seconds;
}
async function verifyOnly(seconds: number): Promise<number> {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (Date.now() < end) {
      await verifier.verify(JSON.parse(bodies[n % bodies.length]!).credentials.oidcIdentityToken);
      n++;
    }
  }));
  return n / seconds;
}

// 2. HTTP with keep-alive.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const url = new URL(`${stack.base}/api/v2/signingCert`);
function call(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function overHttp(seconds: number, concurrency: number): Promise<{ rate: number; p50: number; p95: number; p99: number }> {
  const lat: number[] = [];
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) lat.push(await call(bodies[n++ % bodies.length]!));
  }));
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { rate: lat.length / seconds, p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

// Peer: sigstore-js's mock Fulcio (@sigstore/mock, with its CT log) on the same bodies, in-process.
// It decodes the token without verifying its signature, so it does less work than a real CA.
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const mockCa = fulcioHandler(await initializeCA(p256(), await initializeCTLog(p256())));
async function mockInProcess(seconds: number, concurrency: number): Promise<number> {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      const r = await mockCa.fn(bodies[n % bodies.length]!);
      if (r.statusCode !== 200 && r.statusCode !== 201) throw new Error(`mock Fulcio answered ${r.statusCode}`);
      n++;
    }
  }));
  return n / seconds;
}

await inProcess(1, 8); // warm-up
await mockInProcess(1, 8);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, ${new Date().toISOString()}`);
console.log(`token verification only (ES256, cached JWKS): ${(await verifyOnly(3)).toFixed(0)}/s`);
console.log(`CA in-process, concurrency 8: ${(await inProcess(3, 8)).toFixed(0)} certificates/s, ${lastCpuPerOp.toFixed(2)} ms CPU each (all threads)`);
console.log(`peer @sigstore/mock Fulcio in-process, concurrency 8: ${(await mockInProcess(3, 8)).toFixed(0)} certificates/s`);
for (const c of [1, 16, 64]) {
  await overHttp(1, c);
  const r = await overHttp(3, c);
  console.log(`HTTP, ${c} concurrent (client in the same process): ${r.rate.toFixed(0)}/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
}
agent.destroy();
await stack.close();
