// Appends per second through real HTTP, fresh ECDSA P-256 signatures in every entry.
// node --import tsx bench/tlog-append.ts [--api v1|v2] [--n 20000] [--workers 1] [--concurrency 1,10,100]
import { generateKeyPairSync, createHash, sign } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { measureStorage } from './tlog-storage.js';
import { startLogServer } from '../test/support/log-server.js';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : dflt);
const api = opt('api', 'v1');
const total = Number(opt('n', '20000'));
const workers = opt('workers', '1');
const levels = opt('concurrency', '1,10,100').split(',').map(Number);

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
const der = keys.publicKey.export({ format: 'der', type: 'spki' });

/** Pre-builds request bodies: distinct artifacts, a fresh signature each. */
function makeBodies(n: number, tag: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const artifact = Buffer.from(`${tag} artifact ${i} ${Math.random()}`);
    const digest = createHash('sha256').update(artifact).digest();
    const signature = sign('sha256', artifact, keys.privateKey);
    const body =
      api === 'v1'
        ? {
            apiVersion: '0.0.1',
            kind: 'hashedrekord',
            spec: {
              data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
              signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(pem).toString('base64') } },
            },
          }
        : {
            hashedRekordRequestV002: {
              digest: digest.toString('base64'),
              signature: {
                content: signature.toString('base64'),
                verifier: { publicKey: { rawBytes: der.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
              },
            },
          };
    out.push(Buffer.from(JSON.stringify(body)));
  }
  return out;
}

function postOnce(agent: http.Agent, url: URL, path: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU seconds (user + system, all threads) used so far by a process. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-'));
const external = opt('url', '');
const { child, url } = external ? { child: undefined, url: external } : await startLogServer(dir, workers);
const base = new URL(url);
const path = api === 'v1' ? '/api/v1/log/entries' : '/api/v2/log/entries';
console.log(
  `# ${new Date().toISOString()} ${cpus().length} cpus ${cpus()[0]?.model} node ${process.version}; api ${api}, verifier workers ${workers}`,
);
try {
  for (const c of levels) {
    const n = c === 1 ? Math.min(total, 3000) : total;
    const bodies = makeBodies(n + c * 5, `c${c}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: c });
    // Warm-up: a few requests per connection.
    let next = 0;
    const warm = bodies.splice(0, c * 5);
    await Promise.all(
      Array.from({ length: c }, async () => {
        for (let k = 0; k < 5; k++) await postOnce(agent, base, path, warm[next++]!);
      }),
    );
    next = 0;
    const latencies: number[] = [];
    let errors = 0;
    const cpu0 = cpuSeconds(child?.pid);
    const client0 = process.cpuUsage();
    const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (next < bodies.length) {
          const b = bodies[next++]!;
          const s = performance.now();
          const status = await postOnce(agent, base, path, b);
          latencies.push(performance.now() - s);
          if (status !== 201) errors++;
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const serverCpuMs = ((cpuSeconds(child?.pid) - cpu0) * 1000) / bodies.length;
    const c1 = process.cpuUsage(client0);
    const clientCpuMs = (c1.user + c1.system) / 1000 / bodies.length;
    latencies.sort((a, b) => a - b);
    console.log(
      `concurrency ${String(c).padStart(3)}: ${(bodies.length / secs).toFixed(0).padStart(6)} appends/s  p50 ${pct(latencies, 50).toFixed(2)} ms  p95 ${pct(latencies, 95).toFixed(2)} ms  p99 ${pct(latencies, 99).toFixed(2)} ms  (${bodies.length} entries, ${errors} non-201; server CPU ${serverCpuMs.toFixed(3)} ms/append, client CPU ${clientCpuMs.toFixed(3)} ms/append; load avg ${load0})`,
    );
    agent.destroy();
  }
} finally {
  if (child) {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    const m = measureStorage(dir);
    console.log(
      `storage: ${m.entries} entries (both logs), canonical bodies ${(m.bodyBytes / m.entries).toFixed(0)} B/entry, database ${(m.fileBytes / m.entries).toFixed(0)} B/entry: ${m.ratio.toFixed(2)}x`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}
