// Inclusion-proof and checkpoint reads on a large log built by tlog-bulkload.ts:
// node --import tsx bench/tlog-reads.ts DATA_DIR [--n 2000]
// Through real HTTP (a tlog-server.ts child process) and in-process through the engine.
import { softwareSigner } from '../src/core/signer.js';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { LogEngine, noteCheckpointSigner } from '../src/log/index.js';
import { leafHash, verifyInclusion, verifySignedCheckpoint } from '../src/merkle/index.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: tlog-reads.ts DATA_DIR [--n N]');
const args = process.argv.slice(3);
const n = args.includes('--n') ? Number(args[args.indexOf('--n') + 1]) : 2000;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function report(name: string, lat: number[]): void {
  lat.sort((a, b) => a - b);
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  console.log(
    `${name.padEnd(48)} mean ${mean.toFixed(3)} ms  p50 ${pct(lat, 50).toFixed(3)}  p95 ${pct(lat, 95).toFixed(3)}  p99 ${pct(lat, 99).toFixed(3)}  max ${lat[lat.length - 1]!.toFixed(3)}`,
  );
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function getJson(base: URL, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: base.hostname, port: base.port, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      })
      .on('error', reject);
  });
}

// In-process first (cold tile cache: a fresh engine).
const privateKey = createPrivateKey(readFileSync(join(dir, 'rekor-v1.key.pem')));
const publicKey = createPublicKey(privateKey);
{
  const engine = LogEngine.openSqlite(dir);
  const t0 = performance.now();
  const log = await engine.openLog({
    name: 'rekor-v1',
    origin: (id) => `rekor.keyless.test - ${id}`,
    signer: ({ origin }) => noteCheckpointSigner({ origin, keyName: 'rekor.keyless.test', signer: softwareSigner(privateKey) }),
  });
  console.log(`# ${new Date().toISOString()} ${cpus().length} cpus ${cpus()[0]?.model} node ${process.version}`);
  console.log(`# log size ${log.size}; open ${(performance.now() - t0).toFixed(1)} ms`);
  const size = log.size;
  const cp = verifySignedCheckpoint(log.latestCheckpoint().signed, 'rekor.keyless.test', publicKey);
  const latProof: number[] = [];
  const latEntry: number[] = [];
  for (let i = 0; i < n; i++) {
    const idx = Math.floor(Math.random() * size);
    const s = performance.now();
    const proof = await log.inclusionProof(idx);
    latProof.push(performance.now() - s);
    const s2 = performance.now();
    const e = await log.getEntry(idx);
    latEntry.push(performance.now() - s2);
    if (i < 50) verifyInclusion(idx, size, leafHash(e!.body), proof, cp.rootHash);
  }
  report('engine: inclusion proof (random index)', latProof);
  report('engine: read entry by index', latEntry);
  const latCp: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    log.latestCheckpoint();
    latCp.push(performance.now() - s);
  }
  report('engine: latest checkpoint', latCp);
  await engine.close();
}

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/tlog-server.ts', dir, '--workers', '0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve) => {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /READY (\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
});
const base = new URL(url);
try {
  const info = JSON.parse((await getJson(base, '/api/v1/log')).body) as { treeSize: number };
  const size = info.treeSize;
  const lat = { log: [] as number[], entry: [] as number[], uuid: [] as number[], proof: [] as number[] };
  for (let i = 0; i < n; i++) {
    let s = performance.now();
    await getJson(base, '/api/v1/log');
    lat.log.push(performance.now() - s);
    const idx = Math.floor(Math.random() * size);
    s = performance.now();
    const r = await getJson(base, `/api/v1/log/entries?logIndex=${idx}`);
    lat.entry.push(performance.now() - s);
    if (r.status !== 200) throw new Error(`GET entry ${idx}: ${r.status}`);
    const uuid = Object.keys(JSON.parse(r.body) as object)[0]!;
    s = performance.now();
    await getJson(base, `/api/v1/log/entries/${uuid}`);
    lat.uuid.push(performance.now() - s);
    s = performance.now();
    await getJson(base, `/api/v1/log/proof?firstSize=${1 + Math.floor(Math.random() * (size - 1))}&lastSize=${size}`);
    lat.proof.push(performance.now() - s);
  }
  report('HTTP GET /api/v1/log (checkpoint)', lat.log);
  report('HTTP GET entry + inclusion proof by logIndex', lat.entry);
  report('HTTP GET entry + inclusion proof by UUID', lat.uuid);
  report('HTTP GET consistency proof (random first size)', lat.proof);
} finally {
  child.kill('SIGTERM');
  agent.destroy();
}
