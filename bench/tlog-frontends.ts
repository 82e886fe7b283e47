// Durable Rekor v2 appends through `keyless serve` frontends: SQLite (1 frontend) against
// PostgreSQL (1 and 2 frontends on one database), the same load in the same run.
// node --import tsx bench/tlog-frontends.ts [--n 12000] [--clients 100] [--warmup 10] [--configs sqlite-1,postgres-1,postgres-2,rekor-tiles]
//   [--baseline DIR [--rounds 2]]: also runs each Keyless configuration with DIR's build (DIR/bin/keyless, e.g. an
//   extracted and built older commit), alternating with this build round by round, for a before/after in one run.
// Peer: rekor-tiles v2.3.0 with its POSIX backend (`go install
// github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix@v2.3.0`; KEYLESS_REKOR_TILES names
// the binary, default $HOME/go/bin/posix), checkpoint interval 1 s, other settings default.
// Its 201 waits for a published checkpoint, which it polls for once a second
// (internal/tessera/tessera.go in v2.3.0), so at a fixed number of clients it is latency-bound.
// Needs `npm run build` (bin/keyless) and PostgreSQL server binaries (a private cluster is
// started with initdb, default settings: fsync and synchronous_commit on).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { startThrowawayCluster } from '../test/support/postgres.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : dflt);
const total = Number(opt('n', '12000'));
const clients = Number(opt('clients', '100'));
const warmup = Number(opt('warmup', '10'));
const configs = opt('configs', 'sqlite-1,postgres-1,postgres-2,rekor-tiles').split(',');
const REKOR_TILES = process.env.KEYLESS_REKOR_TILES ?? join(homedir(), 'go', 'bin', 'posix');
const BIN = join(new URL('..', import.meta.url).pathname, 'bin', 'keyless');
const baseline = args.includes('--baseline') ? join(opt('baseline', ''), 'bin', 'keyless') : undefined;
const rounds = Number(opt('rounds', baseline ? '2' : '1'));
if (baseline && !existsSync(baseline)) throw new Error(`--baseline: no ${baseline}`);

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const der = keys.publicKey.export({ format: 'der', type: 'spki' });

function makeBodies(n: number, tag: string): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const artifact = Buffer.from(`${tag} ${i} ${Math.random()}`);
    const digest = createHash('sha256').update(artifact).digest();
    const signature = sign('sha256', artifact, keys.privateKey);
    const body = {
      hashedRekordRequestV002: {
        digest: digest.toString('base64'),
        signature: {
          content: signature.toString('base64'),
          verifier: { publicKey: { rawBytes: der.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
        },
      },
    };
    return Buffer.from(JSON.stringify(body));
  });
}

/**
 * One client: an HTTP/1.1 keep-alive connection that sends one request at a time, each as
 * one pre-built write, and reads the status line, the headers and the body (Content-Length
 * or chunked). node:http's client cost 0.067 ms of CPU per request here, on the same two
 * cores as the servers it measures; this one costs a fraction of that, as a C load
 * generator (wrk, h2load) would.
 */
class Connection {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((status: number) => void) | undefined;
  private failed: ((e: Error) => void) | undefined;
  constructor(private readonly url: URL) {}

  async post(body: Buffer): Promise<number> {
    const socket = this.socket ?? (await this.connect());
    const head = `POST /api/v2/log/entries HTTP/1.1\r\nHost: ${this.url.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    return new Promise<number>((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(this.url.port), this.url.hostname, () => resolve(socket));
      socket.setNoDelay(true);
      socket.on('data', (chunk) => this.onData(chunk));
      socket.on('error', (e) => (this.failed ?? reject)(e));
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.failed?.(new Error('the server closed the connection before answering'));
      });
      this.socket = socket;
      this.buffered = Buffer.alloc(0);
    });
  }

  /** Answers a waiting request once its whole response is in. */
  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffered.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let rest = this.buffered.subarray(end + 4);
    if (length) {
      if (rest.length < Number(length[1])) return;
      rest = rest.subarray(Number(length[1]));
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      // Chunks up to the zero-length one and its final CRLF.
      for (;;) {
        const line = rest.indexOf('\r\n');
        if (line < 0) return;
        const size = parseInt(rest.subarray(0, line).toString('latin1'), 16);
        if (rest.length < line + 2 + size + 2) return;
        rest = rest.subarray(line + 2 + size + 2);
        if (size === 0) break;
      }
    }
    if (rest.length) throw new Error(`${rest.length} bytes after a response no request asked for`);
    this.buffered = Buffer.alloc(0);
    const resolve = this.waiting;
    this.waiting = this.failed = undefined;
    if (/\r\nconnection: *close/i.test(head)) this.socket?.destroy();
    resolve?.(status);
  }
}

/** CPU seconds (user + system) used so far by the processes; `systemOnly`: the kernel's part. */
function cpuSeconds(pids: number[], systemOnly = false): number {
  let t = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      t += ((systemOnly ? 0 : Number(f[11])) + Number(f[12])) / 100;
    } catch {
      // Exited.
    }
  }
  return t;
}

/** The postmaster and every backend it forked. */
function clusterPids(postmaster: number): number[] {
  const out = [postmaster];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === postmaster) out.push(Number(d));
    } catch {
      // Gone.
    }
  }
  return out;
}

async function startFrontend(bin: string, dataDir: string, database?: string): Promise<{ child: ChildProcess; url: URL }> {
  // Every bench client connects from loopback: allow them all (the default caps one client address at 64).
  const config = join(dataDir, '..', 'bench-config.json');
  writeFileSync(config, JSON.stringify({ limits: { maxConnectionsPerClient: clients + 16 } }));
  const child = spawn(
    process.execPath,
    [
      // e.g. KEYLESS_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the frontends.
      ...(process.env.KEYLESS_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      bin,
      'serve',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--public-url',
      'http://localhost:9',
      '--config',
      config,
      '--log-level',
      'error',
      ...(database ? ['--database', database] : []),
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.on('exit', (code) => reject(new Error(`keyless serve exited (${code})`)));
  });
  return { child, url: new URL(url) };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

/** rekor-tiles (POSIX backend) on free ports, ready when /healthz answers (its tiles are read from the directory, not served). */
async function startRekorTiles(dir: string): Promise<{ child: ChildProcess; url: URL }> {
  const key = join(dir, 'key.pem');
  writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const [http_, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    REKOR_TILES,
    [
      'serve',
      '--hostname',
      'localhost',
      '--storage-dir',
      join(dir, 'tiles'),
      '--signer-filepath',
      key,
      '--http-port',
      String(http_),
      '--grpc-port',
      String(grpc),
      '--http-metrics-port',
      String(metrics),
      '--checkpoint-interval',
      '1s',
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = new URL(`http://127.0.0.1:${http_}`);
  for (let i = 0; ; i++) {
    // Its POSIX backend leaves tiles and the checkpoint to a file server (GET /api/v2/checkpoint is 501).
    const ok = await fetch(`${url.href}healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (i > 600 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('rekor-tiles did not answer /healthz');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url };
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

console.log(
  `# ${new Date().toISOString()} ${cpus().length} cpus ${cpus()[0]?.model} node ${process.version}; ${clients} clients, ${total} Rekor v2 appends per configuration`,
);
const cluster = configs.some((c) => c.startsWith('postgres')) ? await startThrowawayCluster() : undefined;
const postmaster = cluster ? Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) : 0;
// Each round runs every configuration; with --baseline, Keyless ones twice (the order alternates by round).
const runs: { config: string; bin: string; label: string }[] = [];
for (let r = 0; r < rounds; r++) {
  for (const config of configs) {
    const pair = [
      { config, bin: BIN, label: config },
      ...(baseline && config !== 'rekor-tiles' ? [{ config, bin: baseline, label: `${config} base` }] : []),
    ];
    runs.push(...(r % 2 === 0 ? pair : pair.reverse()));
  }
}
try {
  for (const { config, bin, label } of runs) {
    const [driver, count] = config.split('-') as [string, string];
    const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-frontends-'));
    let database: string | undefined;
    if (driver === 'postgres') {
      const name = `bench_${config.replace('-', '_')}_${Date.now()}`;
      const admin = await import('pg');
      const c = new admin.default.Client({ connectionString: cluster!.url });
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      database = cluster!.url.replace(/\/postgres$/, `/${name}`);
    }
    const frontends: { child: ChildProcess; url: URL }[] = [];
    if (config === 'rekor-tiles') {
      if (!existsSync(REKOR_TILES)) {
        console.log(`rekor-tiles: not measured (no binary at ${REKOR_TILES})`);
        continue;
      }
      frontends.push(await startRekorTiles(dir));
    } else for (let i = 0; i < Number(count); i++) frontends.push(await startFrontend(bin, join(dir, 'data'), database));
    const connections = Array.from({ length: clients }, (_, c) => new Connection(frontends[c % frontends.length]!.url));
    const bodies = makeBodies(total + clients * warmup, config);
    // Warm-up: `--warmup` requests per client, so each frontend's JIT has settled before the clock starts.
    let next = 0;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let k = 0; k < warmup; k++) await connections[c]!.post(bodies[next++]!);
      }),
    );
    // Batches: every entry row carries the ID of the transaction (one per batch) that wrote it.
    const batchCount = async (): Promise<number> => {
      if (!database) return 0;
      const c = new (await import('pg')).default.Client({ connectionString: database });
      await c.connect();
      const r = await c.query<{ n: string }>('SELECT count(DISTINCT xmin::text) AS n FROM entries');
      await c.end();
      return Number(r.rows[0]!.n);
    };
    const batches0 = await batchCount();
    const latencies: number[] = [];
    let errors = 0;
    const frontendPids = frontends.map((f) => f.child.pid!);
    const pgPids = cluster ? clusterPids(postmaster) : [];
    const fe0 = cpuSeconds(frontendPids);
    const feSys0 = cpuSeconds(frontendPids, true);
    const pg0 = cpuSeconds(pgPids);
    const cl0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        while (next < bodies.length) {
          const b = bodies[next++]!;
          const s = performance.now();
          const status = await connections[c]!.post(b);
          latencies.push(performance.now() - s);
          if (status !== 201) errors++;
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const fe = cpuSeconds(frontendPids) - fe0;
    const feSys = cpuSeconds(frontendPids, true) - feSys0;
    const pg = driver === 'postgres' ? cpuSeconds(clusterPids(postmaster)) - pg0 : 0;
    const cl1 = process.cpuUsage(cl0);
    const client = (cl1.user + cl1.system) / 1e6;
    latencies.sort((a, b) => a - b);
    const n = latencies.length;
    const batches = (await batchCount()) - batches0;
    console.log(
      `${label.padEnd(16)}: ${(n / secs).toFixed(0).padStart(6)} durable appends/s  p50 ${pct(latencies, 50).toFixed(1)} ms  p95 ${pct(latencies, 95).toFixed(1)} ms  (${n} appends, ${errors} non-201; ` +
        `CPU s: frontends ${fe.toFixed(1)}, PostgreSQL ${pg.toFixed(1)}, bench client ${client.toFixed(1)}; database share ${((100 * pg) / (fe + pg + client)).toFixed(0)}%` +
        `${batches ? `; ${batches} batches, ${(n / batches).toFixed(0)} entries each` : ''}; ` +
        `CPU ms per append: frontends ${((1000 * fe) / n).toFixed(2)} (kernel ${((1000 * feSys) / n).toFixed(2)}), all ${((1000 * (fe + pg + client)) / n).toFixed(2)}; ` +
        `load ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')})`,
    );
    for (const c of connections) c.close();
    for (const f of frontends) {
      f.child.kill('SIGTERM');
      await new Promise((r) => f.child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await cluster?.destroy();
}
