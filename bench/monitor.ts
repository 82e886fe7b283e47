// Scan rate of `keyless monitor` end to end (child process: fetch, hash-check against the
// checkpoint, parse, chain check, match) against logs served by a real `keyless serve`:
//   [ROUNDS=2] [LIMIT_S=300] node --import tsx bench/monitor.ts [V2_ENTRIES=200000] [V1_ENTRIES=30000]
// The logs are bulk-loaded into the server's own SQLite engine (one transaction and one
// signed checkpoint per 50,000 entries) with realistic hashedrekord bodies: certificates
// issued by the server's CA to 2,000 identities, 3 of them watched (about 1% of entries).
// RSS of the monitor is sampled every 50 ms from /proc. sigstore's rekor-monitor runs the
// same YAML in the same run when `rekor_monitor` is on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogEngine } from '../src/log/index.js';
import { RekorV1Log, RekorV2Log } from '../src/services/tlog/index.js';
import { DEFAULT_CONFIG, FileKeyStore, type ServerConfig } from '../src/server/index.js';
import { loadOrCreateCa } from '../src/server/pki.js';
import { issueLeafCertificate, generateKey } from '../src/x509/build/index.js';
import {
  buildHashedRekordV001,
  buildHashedRekordV002,
  canonicalRekorV1Body,
  canonicalRekorV2Body,
  KeyDetailsValue,
} from '../src/formats/index.js';

const V2_ENTRIES = Number(process.argv[2] ?? 200_000);
const V1_ENTRIES = Number(process.argv[3] ?? 30_000);
const IDENTITIES = 2000;
const WATCHED = ['watched-0@example.com', 'watched-1@example.com', 'watched-2@example.com'];
const BIN = join(process.cwd(), 'bin', 'keyless');
/** A scan still running after this many seconds is killed and reported. */
const LIMIT_S = Number(process.env.LIMIT_S ?? 300);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startServe(dataDir: string, port: number): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  // Request logs off, and stderr always read: a full stderr pipe blocks the server's writes,
  // and a server with unwritten output never exits (the benchmark then waited for ever).
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', String(port), '--log-level', 'error'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    void exited.then(() => reject(new Error(`keyless serve exited: ${stderr}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-monitor-'));
const dataDir = join(dir, 'data');
const port = await freePort();
let serve = await startServe(dataDir, port);
const publicUrl = serve.url;
await serve.stop();

// ---- bulk load -------------------------------------------------------------------------
const t0 = performance.now();
const keyStore = new FileKeyStore(dataDir);
const config = structuredClone(DEFAULT_CONFIG) as ServerConfig;
const ca = loadOrCreateCa(dataDir, keyStore, config, () => undefined);
const issuerUrl = `${publicUrl}/oidc`;
const certs = Array.from({ length: IDENTITIES }, (_, i) => {
  const email = i < WATCHED.length ? WATCHED[i]! : `user-${i}@example.com`;
  const cert = issueLeafCertificate(
    {
      publicKey: generateKey().publicKey,
      san: { type: 'email', value: email },
      sigstoreExtensions: { '1.3.6.1.4.1.57264.1.8': issuerUrl },
    },
    ca.intermediate,
  );
  return { email, der: cert.der, pem: cert.toPem() };
});
/** Identity of entry i: a watched one about 1% of the time, else one of the others. */
const pick = (i: number) => (i % 100 === 7 ? i % WATCHED.length : WATCHED.length + ((i * 7919) % (IDENTITIES - WATCHED.length)));
const expectedWatched = (n: number) => Array.from({ length: n }, (_, i) => pick(i)).filter((k) => k < WATCHED.length).length;

const engine = LogEngine.openSqlite(join(dataDir, 'log'));
const v1Key = keyStore.loadOrCreate('rekor-v1', config.keys.rekorV1);
const v2Key = keyStore.loadOrCreate('rekor-v2', config.keys.rekorV2);
const v1 = await RekorV1Log.open({
  engine,
  baseUrl: publicUrl,
  signer: v1Key,
  maxBatch: 50_000,
});
const v2 = await RekorV2Log.open({
  engine,
  baseUrl: publicUrl,
  signer: v2Key,
  maxBatch: 50_000,
});

async function load(n: number, append: (body: Buffer) => Promise<unknown>, body: (i: number) => Buffer): Promise<void> {
  for (let done = 0; done < n; done += 50_000) {
    const k = Math.min(50_000, n - done);
    await Promise.all(Array.from({ length: k }, (_, j) => append(body(done + j))));
  }
}
await load(
  V2_ENTRIES,
  (b) => v2.log.append(b),
  (i) => {
    const c = certs[pick(i)]!;
    return canonicalRekorV2Body(
      buildHashedRekordV002({
        digest: randomBytes(32),
        signature: {
          content: randomBytes(71),
          verifier: {
            verifier: { $case: 'x509Certificate', x509Certificate: { rawBytes: c.der } },
            keyDetails: KeyDetailsValue.PKIX_ECDSA_P256_SHA_256,
          },
        },
      }),
    );
  },
);
await load(
  V1_ENTRIES,
  (b) => v1.log.append(b),
  (i) => {
    const c = certs[pick(i)]!;
    return canonicalRekorV1Body(
      buildHashedRekordV001({
        hash: { algorithm: 'sha256', value: randomBytes(32).toString('hex') },
        signature: randomBytes(71),
        publicKeyPem: c.pem,
      }),
    );
  },
);
await engine.close();
console.log(`bulk load: ${V2_ENTRIES} Rekor v2 + ${V1_ENTRIES} Rekor v1 entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// ---- scans -----------------------------------------------------------------------------
serve = await startServe(dataDir, port);
const trustedRoot = join(dataDir, 'trusted_root.json');
const yaml = (out: string) => `startIndex: 0
monitoredValues:
  certIdentities:
${WATCHED.map((w) => `    - certSubject: ^${w.replace(/\./g, '\\.')}$`).join('\n')}
outputIdentities: ${out}
outputIdentitiesFormat: json
`;

function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function timed(
  cmd: string,
  args: string[],
): Promise<{ seconds: number; code: number | null; rss: number[]; stderr: string; cpu: number; serverCpu: number }> {
  const start = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const rss: number[] = [];
  let cpu = 0;
  const serverCpu0 = cpuOf(serve.pid) ?? 0;
  const timer = setInterval(() => {
    const r = rssOf(child.pid!);
    if (r !== undefined) rss.push(r);
    cpu = cpuOf(child.pid!) ?? cpu;
  }, 50);
  // A stalled scan is a finding, not a hung benchmark.
  const watchdog = setTimeout(() => child.kill('SIGKILL'), LIMIT_S * 1000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(timer);
  clearTimeout(watchdog);
  const serverCpu = (cpuOf(serve.pid) ?? 0) - serverCpu0;
  return { seconds: (performance.now() - start) / 1000, code, rss, stderr, cpu, serverCpu };
}

/** user + system CPU seconds of a process so far (/proc/PID/stat, clock ticks of 1/100 s). */
function cpuOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * RSS over the run (sampled every 50 ms): min and max, the same once the first tenth
 * (start-up and warm-up) is over, the largest sample of each tenth, and the growth from
 * the first half's peak to the second's.
 */
function describeRss(rss: number[]): string {
  if (rss.length === 0) return 'n/a';
  const peak = (from: number, to: number) =>
    Math.max(...rss.slice(Math.floor(rss.length * from), Math.max(Math.floor(rss.length * to), Math.floor(rss.length * from) + 1)));
  const tenths = Array.from({ length: 10 }, (_, k) => peak(k / 10, (k + 1) / 10).toFixed(0));
  const settled = rss.slice(Math.floor(rss.length / 10));
  const growth = peak(0.5, 1) - peak(0, 0.5);
  return `RSS MiB (${rss.length} samples): min ${Math.min(...rss).toFixed(0)}, max ${Math.max(...rss).toFixed(0)}; after the first tenth min ${Math.min(...settled).toFixed(0)}, max ${Math.max(...settled).toFixed(0)}; peak of each tenth ${tenths.join('/')}; second-half peak ${growth >= 0 ? '+' : ''}${growth.toFixed(0)} MiB over the first half's`;
}

// Each scan runs against a freshly started server: a server that has just streamed the
// 200,000-entry v2 log answers Rekor v1 requests about half as fast (seen here), which
// would measure the server's warm-up, not the monitor.
const ROUNDS = Number(process.env.ROUNDS ?? 2);
for (const [api, n] of Array.from(
  { length: ROUNDS },
  () =>
    [
      [2, V2_ENTRIES],
      [1, V1_ENTRIES],
    ] as const,
).flat()) {
  await serve.stop();
  serve = await startServe(dataDir, port);
  const out = join(dir, `ids-v${api}.jsonl`);
  rmSync(out, { force: true });
  rmSync(join(dir, `state-v${api}.json`), { force: true });
  const cfg = join(dir, `cfg-v${api}.yaml`);
  writeFileSync(cfg, yaml(out));
  const r = await timed(process.execPath, [
    BIN,
    'monitor',
    '--url',
    serve.url,
    '--api-version',
    String(api),
    '--config-file',
    cfg,
    '--file',
    join(dir, `state-v${api}.json`),
    '--trusted-root',
    trustedRoot,
  ]);
  const found = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).length : 0;
  const ok = r.code === 3 && found === expectedWatched(n);
  console.log(
    `keyless monitor, Rekor v${api}: ${n} entries in ${r.seconds.toFixed(2)} s = ${(n / r.seconds).toFixed(0)} entries/s end to end; ${found} matches (expected ${expectedWatched(n)})${ok ? '' : ` MISMATCH exit ${r.code}: ${r.stderr.slice(-300)}`}; CPU: monitor ${r.cpu.toFixed(2)} s (${(n / Math.max(r.cpu, 0.01)).toFixed(0)} entries per CPU-second), server ${r.serverCpu.toFixed(2)} s; ${describeRss(r.rss)}`,
  );
}

const peer = spawnSync('sh', ['-c', 'command -v rekor_monitor'], { encoding: 'utf8' }).stdout.trim();
if (!peer) console.log('rekor_monitor: not on PATH, not measured');
else {
  for (const [api, n] of [
    [2, V2_ENTRIES],
    [1, V1_ENTRIES],
  ] as const) {
    const out = join(dir, `peer-v${api}.txt`);
    const cfg = join(dir, `peer-v${api}.yaml`);
    writeFileSync(cfg, yaml(out).replace('outputIdentitiesFormat: json\n', 'outputIdentitiesFormat: text\n'));
    await serve.stop();
    serve = await startServe(dataDir, port);
    const r = await timed(peer, ['--url', serve.url, '--config-file', cfg, '--file', join(dir, `peer-state-v${api}`), '--once']);
    const found = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).length : 0;
    console.log(
      `rekor_monitor, Rekor v${api}: ${n} entries in ${r.seconds.toFixed(2)} s = ${(n / r.seconds).toFixed(0)} entries/s; ${found} matches; exit ${r.code}; CPU ${r.cpu.toFixed(2)} s, server ${r.serverCpu.toFixed(2)} s; ${describeRss(r.rss)}`,
    );
  }
}
await serve.stop();
