// Complete keyless signing flows per second through HTTP against a running `keyless serve`
// (a real child process): identity token from the development IdP, certificate with an
// embedded SCT (Fulcio v2 API), Rekor v1 log entry, RFC 3161 timestamp. Each flow uses a
// fresh P-256 key and a fresh artifact, as a real signer does. The same client runs, in the
// same process, against sigstore-js's mock services (@sigstore/mock) as the peer.
//
//   node --import tsx bench/flows.ts [--seconds 8] [--concurrency 1,16,64] [--no-mock]
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const SECONDS = Number(argValue('--seconds', '8'));
const LEVELS = argValue('--concurrency', '1,16,64').split(',').map(Number);
const WITH_MOCK = !args.includes('--no-mock');
/** Measure an already running `keyless serve` (e.g. one started with --cpu-prof) instead of starting one. */
const EXTERNAL_URL = argValue('--url', '');
const EXTERNAL_PID = Number(argValue('--pid', '0'));

// ---- a small HTTP client with keep-alive (fetch adds ~0.3 ms per call on this machine) ----

interface HttpResult {
  status: number;
  body: Buffer;
}

function makeClient(maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return (url: string, body: string | Buffer, contentType: string): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}
type Post = ReturnType<typeof makeClient>;

// ---- one flow ----

interface Target {
  name: string;
  url: string;
  /** Gets an identity token for `email` (through HTTP for Keyless; minted locally for the mock, which has no IdP). */
  token(post: Post, email: string): Promise<string>;
  /** Status codes each step answers with. */
  certStatus: number[];
}

function expect(step: string, r: HttpResult, ok: number[]): void {
  if (!ok.includes(r.status)) throw new Error(`${step}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
}

/** Server CPU per step, filled by signingFlow when `stepCpu` is set (sequential flows only). */
let stepCpu: { pid: number; totals: Record<string, number> } | undefined;
function stepDone(step: string, since: number): number {
  if (!stepCpu) return 0;
  const now = cpuMs(stepCpu.pid);
  stepCpu.totals[step] = (stepCpu.totals[step] ?? 0) + (now - since);
  return now;
}

async function signingFlow(target: Target, post: Post, n: number): Promise<void> {
  let mark = stepCpu ? cpuMs(stepCpu.pid) : 0;
  const email = `bench-${n % 1000}@example.com`;
  const token = await target.token(post, email);
  mark = stepDone('token', mark);

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const proof = sign('sha256', Buffer.from(email), privateKey);
  const certRes = await post(
    `${target.url}/api/v2/signingCert`,
    JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ format: 'pem', type: 'spki' }) },
        proofOfPossession: proof.toString('base64'),
      },
    }),
    'application/json',
  );
  expect('signingCert', certRes, target.certStatus);
  const chain = JSON.parse(certRes.body.toString('utf8')) as { signedCertificateEmbeddedSct?: { chain: { certificates: string[] } } };
  const leafPem = chain.signedCertificateEmbeddedSct?.chain.certificates[0];
  if (!leafPem) throw new Error('signingCert: no certificate with an embedded SCT in the answer');
  mark = stepDone('certificate', mark);

  const artifact = randomBytes(64);
  const signature = sign('sha256', artifact, privateKey);

  const tsaRes = await post(
    `${target.url}/api/v1/timestamp`,
    JSON.stringify({ artifactHash: createHash('sha256').update(signature).digest('base64'), hashAlgorithm: 'sha256' }),
    'application/json',
  );
  expect('timestamp', tsaRes, [200, 201]);
  mark = stepDone('timestamp', mark);

  const rekorRes = await post(
    `${target.url}/api/v1/log/entries`,
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(artifact).digest('hex') } },
        signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(leafPem).toString('base64') } },
      },
    }),
    'application/json',
  );
  expect('rekor', rekorRes, [201]);
  stepDone('rekor v1 entry', mark);
}

/** Server CPU per step over `count` sequential flows (10 ms clock ticks, so many flows are needed). */
async function stepBreakdown(target: Target, pid: number, count: number): Promise<Record<string, number>> {
  const post = makeClient(1);
  stepCpu = { pid, totals: {} };
  let totals: Record<string, number>;
  try {
    for (let i = 0; i < count; i++) await signingFlow(target, post, i);
  } finally {
    totals = stepCpu.totals;
    stepCpu = undefined;
  }
  return Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Number((v / count).toFixed(3))]));
}

// ---- load generation ----

interface LevelResult {
  concurrency: number;
  flows: number;
  errors: number;
  firstError?: string;
  perSecond: number;
  /** Server CPU time (user + system) per flow: independent of what else the machine runs. */
  serverCpuMsPerFlow: number;
  /** The benchmark client's own CPU per flow (key generation, signing, HTTP), on the same two cores. */
  clientCpuMsPerFlow: number;
  p50: number;
  p95: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runLevel(target: Target, concurrency: number, seconds: number, serverPid: number): Promise<LevelResult> {
  const post = makeClient(concurrency);
  let counter = 0;
  // Warm-up: connections, JIT, caches.
  await Promise.all(Array.from({ length: concurrency }, () => signingFlow(target, post, counter++).catch(() => {})));
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpuStart = cpuMs(serverPid);
  const clientStart = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await signingFlow(target, post, counter++);
          latencies.push(performance.now() - t0);
        } catch (e) {
          errors++;
          firstError ??= (e as Error).message;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const serverCpu = cpuMs(serverPid) - cpuStart;
  const clientUsage = process.cpuUsage(clientStart);
  const clientCpu = (clientUsage.user + clientUsage.system) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    flows: latencies.length,
    errors,
    ...(firstError ? { firstError } : {}),
    perSecond: latencies.length / elapsed,
    serverCpuMsPerFlow: serverCpu / Math.max(1, latencies.length),
    clientCpuMsPerFlow: clientCpu / Math.max(1, latencies.length),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

// ---- processes ----

function startProcess(cmd: string[], label: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, cmd, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, url: out.slice(0, nl).trim() });
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}: ${err}`)));
  });
}

/** CPU time a process has used so far (user + system), in ms (Linux clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Peak resident memory of a process (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function measure(
  target: Omit<Target, 'url'>,
  cmd: string[],
): Promise<{ results: LevelResult[]; peakMiB: number; serverCpuMsPerStep: Record<string, number> }> {
  const { child, url } =
    EXTERNAL_URL && target === keylessTarget
      ? { child: { pid: EXTERNAL_PID, exitCode: 0 } as unknown as ChildProcess, url: EXTERNAL_URL }
      : await startProcess(cmd, target.name);
  const t: Target = { ...target, url };
  const results: LevelResult[] = [];
  try {
    for (const c of LEVELS) {
      const r = await runLevel(t, c, SECONDS, child.pid!);
      results.push(r);
      console.error(
        `${target.name} c=${c}: ${r.perSecond.toFixed(0)} flows/s p50 ${r.p50.toFixed(1)} p95 ${r.p95.toFixed(1)} p99 ${r.p99.toFixed(1)} ms, server CPU ${r.serverCpuMsPerFlow.toFixed(2)} ms/flow, client CPU ${r.clientCpuMsPerFlow.toFixed(2)} ms/flow, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
      );
    }
    const serverCpuMsPerStep = await stepBreakdown(t, child.pid!, 300);
    console.error(`${target.name} server CPU per step (ms, sequential): ${JSON.stringify(serverCpuMsPerStep)}`);
    return { results, peakMiB: peakRssMiB(child.pid!), serverCpuMsPerStep };
  } finally {
    await stopProcess(child);
  }
}

// --tmpfs puts the data directory in /dev/shm: fsync becomes free, which shows what the disk costs.
const dataDir = mkdtempSync(join(args.includes('--tmpfs') ? '/dev/shm' : tmpdir(), 'keyless-bench-flows-'));
const keylessTarget: Omit<Target, 'url'> & { url?: string } = {
  name: 'keyless serve',
  certStatus: [200],
  async token(this: Target, post: Post, email: string) {
    const r = await post(
      `${this.url}/oidc/token`,
      new URLSearchParams({ grant_type: 'client_credentials', email }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect('token', r, [200]);
    return (JSON.parse(r.body.toString('utf8')) as { id_token: string }).id_token;
  },
};

// The mock Fulcio reads the token's claims without checking them; a locally signed JWT stands in for the IdP.
const mockIdpKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const mockTarget: Omit<Target, 'url'> = {
  name: 'sigstore-js @sigstore/mock',
  certStatus: [200, 201],
  async token(_post: Post, email: string) {
    return new SignJWT({ email, email_verified: true, sub: email })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('https://mock-idp.example')
      .setAudience('sigstore')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(mockIdpKey);
  },
};

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
  seconds: SECONDS,
  dataDir: args.includes('--tmpfs') ? 'tmpfs (/dev/shm)' : 'disk',
  /** Other work on the machine skews wall-clock figures; server CPU per flow is the stable number. */
  loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
};
try {
  if (!args.includes('--mock-only'))
    report.keyless = await measure(keylessTarget, ['bin/keyless', 'serve', '--port', '0', '--data-dir', dataDir]);
  if (WITH_MOCK) report.mock = await measure(mockTarget, ['--import', 'tsx', 'bench/flows-mock-server.ts']);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
report.loadAverageAtEnd = loadavg().map((l) => Number(l.toFixed(2)));
console.log(JSON.stringify(report, null, 2));
