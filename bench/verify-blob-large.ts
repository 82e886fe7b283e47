// verify-blob of a large file: peak memory (RSS) and wall time of one `bin/keyless
// verify-blob` process, against `sha256sum` on the same file in the same run (the floor:
// verifying must read and hash every byte once). Targets: RSS <= 150 MB, time <= 1.2x.
// Run: node --import tsx bench/verify-blob-large.ts   (after `npm run build`;
// BENCH_BYTES sets the size, default 2 GiB; BENCH_ROUNDS the runs per tool, default 3).
// Needs GNU time (/usr/bin/time, Debian package `time`) for the peak RSS.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BYTES = Number(process.env.BENCH_BYTES ?? 2 * 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BIN = join(process.cwd(), 'bin', 'keyless');
const TIME = '/usr/bin/time';
if (!existsSync(TIME)) throw new Error('GNU time (/usr/bin/time) is needed for the peak RSS: apt-get install time');

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Wall seconds and peak RSS (MB) of one command, from GNU time. */
function measure(cmd: string, args: string[]): { seconds: number; rssMb: number } {
  const r = spawnSync(TIME, ['-f', 'BENCH %e %M', cmd, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  const m = /BENCH ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no GNU time line in: ${r.stderr}`);
  return { seconds: Number(m[1]), rssMb: Number(m[2]) / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-large-'));
const serve = spawn(process.execPath, [BIN, 'serve', '--data-dir', join(dir, 'data'), '--port', '0'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    serve.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    serve.once('exit', () => reject(new Error('keyless serve exited')));
  });
  const file = join(dir, 'large.bin');
  const fd = openSync(file, 'w');
  const piece = Buffer.alloc(8 * 1024 * 1024);
  for (let off = 0, i = 0; off < BYTES; off += piece.length, i++) {
    piece.fill(i % 251);
    writeSync(fd, piece, 0, Math.min(piece.length, BYTES - off));
  }
  closeSync(fd);
  const token = run(process.execPath, [BIN, 'dev-token', '--url', url, '--email', 'bench@example.com']).trim();
  const issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
  const root = join(dir, 'data', 'trusted_root.json');
  const bundle = join(dir, 'large.sigstore.json');
  run(process.execPath, [
    BIN,
    'sign-blob',
    file,
    '--bundle',
    bundle,
    '--identity-token',
    token,
    '--signing-config',
    join(dir, 'data', 'signing_config.json'),
    '--trusted-root',
    root,
  ]);

  const verifyArgs = [
    BIN,
    'verify-blob',
    file,
    '--bundle',
    bundle,
    '--certificate-identity',
    'bench@example.com',
    '--certificate-oidc-issuer',
    issuer,
    '--trusted-root',
    root,
  ];
  measure('sha256sum', [file]); // warm the page cache for both
  const k: Array<{ seconds: number; rssMb: number }> = [];
  const s: Array<{ seconds: number; rssMb: number }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    k.push(measure(process.execPath, verifyArgs));
    s.push(measure('sha256sum', [file]));
  }
  const kt = median(k.map((x) => x.seconds));
  const st = median(s.map((x) => x.seconds));
  const rss = Math.max(...k.map((x) => x.rssMb));
  console.log(`file: ${(BYTES / 1024 ** 3).toFixed(2)} GiB, ${ROUNDS} rounds each, alternating, page cache warm`);
  console.log(`keyless verify-blob: median ${kt.toFixed(2)} s, peak RSS ${rss.toFixed(0)} MB (target <= 150 MB)`);
  console.log(`sha256sum:           median ${st.toFixed(2)} s, peak RSS ${Math.max(...s.map((x) => x.rssMb)).toFixed(0)} MB`);
  console.log(`ratio: ${(kt / st).toFixed(2)}x sha256sum (target <= 1.2x)`);
} finally {
  serve.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
