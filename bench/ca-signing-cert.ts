// CA throughput: certificates issued per second (token check, PoP, precertificate, SCT
// from the in-process CT log, final certificate), first without HTTP, then through HTTP
// on loopback with concurrent keep-alive clients. Run: node --import tsx bench/ca-signing-cert.ts
//
// `--steps [--root DIR]`: only the CPU per operation of the flow steps these services own
// (IdP token, token verification, certificate, timestamp response), median of 5 rounds, for
// the checkout at DIR (default this one) — e.g. an older commit from `git archive`, run in
// alternation with this one to compare under the same machine load.
import { request, Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { createHash, randomBytes, sign as nodeSign } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
if (argv.includes('--steps')) {
  const i = argv.indexOf('--root');
  await cpuPerStep(i >= 0 && argv[i + 1] ? argv[i + 1]! : fileURLToPath(new URL('..', import.meta.url)));
  process.exit(0);
}

async function cpuPerStep(root: string): Promise<void> {
  const at = (path: string) => import(`${root.replace(/\/$/, '')}/${path}`);
  const helpers = await at('test/ca/helpers.ts');
  const { CertificateAuthority: Authority, inProcessCtSubmitter: submitter } = await at('src/services/ca/index.ts');
  const { TokenVerifier: Verifier } = await at('src/oidc/index.ts');
  const { signIdToken, devTokenClaims } = await at('src/services/idp/tokens.ts');
  const { createTsaChain, createTimestampResponse, timestampRequestFromJson } = await at('src/x509/build/index.ts');
  const s = await helpers.startStack();
  const jwts: string[] = [];
  const requests: string[] = [];
  for (let n = 0; n < 1500; n++) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwt: string = await helpers.token(s, helpers.emailClaims(s, { jti: `s${n}` }));
    jwts.push(jwt);
    requests.push(
      JSON.stringify({
        credentials: { oidcIdentityToken: jwt },
        publicKeyRequest: {
          publicKey: { content: publicKey.export({ format: 'pem', type: 'spki' }) },
          proofOfPossession: nodeSign('sha256', Buffer.from('dev@example.com'), privateKey).toString('base64'),
        },
      }),
    );
  }
  const authority = new Authority({
    issuers: s.issuers,
    issuer: s.chain.intermediate,
    parents: [s.chain.root.certificate],
    submitToCtLog: submitter(s.ctLog),
  });
  const tokenVerifier = new Verifier(s.issuers);
  const tsa = createTsaChain();
  const tsRequests = Array.from({ length: 1000 }, () =>
    timestampRequestFromJson({ artifactHash: createHash('sha256').update(randomBytes(32)).digest('base64'), hashAlgorithm: 'sha256' }),
  );
  const steps: Record<string, (n: number) => unknown> = {
    'IdP token (claims + ES256 signature)': () =>
      signIdToken(s.signer, devTokenClaims(s.issuer, { kind: 'email', email: 'dev@example.com' }, 'sigstore', 600)),
    'token verification (ES256, cached JWKS)': (n) => tokenVerifier.verify(jwts[n % jwts.length]),
    'certificate (CA in-process, SCT from the in-memory CT log, PEM chain)': async (n) =>
      (await authority.signingCertificate(JSON.parse(requests[n % requests.length]!), undefined)).chainPem.join(''),
    'timestamp response (no HTTP)': (n) => createTimestampResponse(tsRequests[n % tsRequests.length], tsa.signer, {}),
  };
  // CPU of all threads per operation, 8 in flight (thread-pool work is counted too).
  const cpuPerOp = async (count: number, op: (n: number) => unknown) => {
    let n = 0;
    const c0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (n < count) await op(n++);
      }),
    );
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / count;
  };
  const rounds: Record<string, number[]> = {};
  for (const op of Object.values(steps)) await cpuPerOp(500, op); // warm-up
  for (let r = 0; r < 5; r++) for (const [name, op] of Object.entries(steps)) (rounds[name] ??= []).push(await cpuPerOp(1500, op));
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  console.log(`${root}: CPU per operation in µs (median of 5 rounds), load ${loadavg()[0]!.toFixed(1)}`);
  for (const [name, v] of Object.entries(rounds)) console.log(`  ${name}: ${median(v).toFixed(0)}`);
  await s.close();
}
import { TokenVerifier } from '../src/oidc/index.js';
import { startStack, emailClaims, token, ecKey, publicKeyRequest } from '../test/ca/helpers.js';
import { CertificateAuthority, inProcessCtSubmitter } from '../src/services/ca/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { initializeCA, initializeCTLog, fulcioHandler } from '@sigstore/mock';

const stack = await startStack();
const key = ecKey();
// Distinct tokens, as in real flows (the verifier must not get a free ride on one token).
const bodies: string[] = [];
for (let i = 0; i < 2000; i++)
  bodies.push(JSON.stringify(publicKeyRequest(await token(stack, emailClaims(stack, { jti: `t${i}` })), key, 'dev@example.com')));

// 1. In-process: the CA's own work.
const ca = new CertificateAuthority({
  issuers: stack.issuers,
  issuer: stack.chain.intermediate,
  parents: [stack.chain.root.certificate],
  submitToCtLog: inProcessCtSubmitter(stack.ctLog),
});
const verifier = new TokenVerifier(stack.issuers);
let lastCpuPerOp = 0;
async function inProcess(seconds: number, concurrency: number): Promise<number> {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await ca.signingCertificate(JSON.parse(bodies[n % bodies.length]!), undefined);
        n++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  lastCpuPerOp = (cpu.user + cpu.system) / n / 1000;
  return n / seconds;
}
async function verifyOnly(seconds: number): Promise<number> {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (Date.now() < end) {
        await verifier.verify(JSON.parse(bodies[n % bodies.length]!).credentials.oidcIdentityToken);
        n++;
      }
    }),
  );
  return n / seconds;
}

// 2. HTTP with keep-alive.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const url = new URL(`${stack.base}/api/v2/signingCert`);
function call(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
async function overHttp(seconds: number, concurrency: number): Promise<{ rate: number; p50: number; p95: number; p99: number }> {
  const lat: number[] = [];
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) lat.push(await call(bodies[n++ % bodies.length]!));
    }),
  );
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
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const r = await mockCa.fn(bodies[n % bodies.length]!);
        if (r.statusCode !== 200 && r.statusCode !== 201) throw new Error(`mock Fulcio answered ${r.statusCode}`);
        n++;
      }
    }),
  );
  return n / seconds;
}

await inProcess(1, 8); // warm-up
await mockInProcess(1, 8);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, ${new Date().toISOString()}`);
console.log(`token verification only (ES256, cached JWKS): ${(await verifyOnly(3)).toFixed(0)}/s`);
console.log(
  `CA in-process, concurrency 8: ${(await inProcess(3, 8)).toFixed(0)} certificates/s, ${lastCpuPerOp.toFixed(2)} ms CPU each (all threads)`,
);
console.log(`peer @sigstore/mock Fulcio in-process, concurrency 8: ${(await mockInProcess(3, 8)).toFixed(0)} certificates/s`);
for (const c of [1, 16, 64]) {
  await overHttp(1, c);
  const r = await overHttp(3, c);
  console.log(
    `HTTP, ${c} concurrent (client in the same process): ${r.rate.toFixed(0)}/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
  );
}
agent.destroy();
await stack.close();
