// `keyless verify-blob` as one process, three ways, interleaved: trust from a file
// (--trusted-root, no TUF), from a valid TUF cache (each run still fetches timestamp.json
// and looks for the next root over loopback, as cosign and sigstore-js do), and from a
// fresh cache (root only: the whole workflow runs, snapshot, targets and target files
// included). Peer in the same run: sigstore-js verify() with tufMirrorURL/tufRootPath, valid
// and fresh cache. Wall time and CPU time (user+system, as the process itself counts it
// from its first preloaded module to exit) per process, median of RUNS.
// Run: node --import tsx bench/tuf-verify.ts [--baseline DIR]   (after `npm run build`; RUNS=21 by default)
// (the environment is the caller's: run once more under `env -u NODE_EXTRA_CA_CERTS` where
// that is set machine-wide, to see the figures without its start-up cost)
// (--baseline DIR: the three keyless variants once more with DIR/bin/keyless, another built
// checkout, in the same interleaved rounds: before/after on the same machine load)
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = Number(process.env.RUNS ?? 21);
const BIN = join(process.cwd(), 'bin', 'keyless');
const baselineAt = process.argv.indexOf('--baseline');
const BASELINE = baselineAt > 0 ? join(process.argv[baselineAt + 1] ?? '.', 'bin', 'keyless') : undefined;
const work = mkdtempSync(join(tmpdir(), 'keyless-bench-tuf-'));
const dataDir = join(work, 'data');

const server = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
  });
  server.once('exit', (code) => reject(new Error(`keyless serve exited with ${code}`)));
});

// Each measured process reports its own CPU time on exit (a preloaded CommonJS file), so the
// figure is the process's, not the machine's: steadier than wall time on a shared machine.
const cpuReporter = join(work, 'cpu-report.cjs');
const cpuFile = join(work, 'cpu.txt');
writeFileSync(
  cpuReporter,
  "process.on('exit', () => { const u = process.cpuUsage(); require('fs').writeFileSync(process.env.BENCH_CPU_FILE, String((u.user + u.system) / 1000)); });\n",
);

interface Run {
  ms: number;
  cpuMs: number;
  code: number | null;
  stderr: string;
}

function keyless(args: string[], env: NodeJS.ProcessEnv = {}, bare = false, bin = BIN): Run {
  rmSync(cpuFile, { force: true });
  const start = performance.now();
  const r = spawnSync(process.execPath, ['--require', cpuReporter, ...(bare ? args : [bin, ...args])], {
    env: { ...process.env, ...env, BENCH_CPU_FILE: cpuFile },
    encoding: 'utf8',
  });
  const ms = performance.now() - start;
  return { ms, cpuMs: Number(readFileSync(cpuFile, 'utf8')), code: r.status, stderr: r.stderr };
}

try {
  const token = spawnSync(process.execPath, [BIN, 'dev-token', '--url', url, '--email', 'bench@example.com'], {
    encoding: 'utf8',
  }).stdout.trim();
  const artifact = join(work, 'a.txt');
  writeFileSync(artifact, 'benchmark artifact\n');
  const trust = ['--signing-config', join(dataDir, 'signing_config.json'), '--trusted-root', join(dataDir, 'trusted_root.json')];
  const signed = keyless(['sign-blob', artifact, '--bundle', `${artifact}.json`, '--identity-token', token, ...trust]);
  if (signed.code !== 0) throw new Error(signed.stderr);

  const validCache = join(work, 'valid-cache');
  const init = keyless(['initialize', '--mirror', `${url}/tuf`, '--root', join(dataDir, 'tuf', 'root.json')], {
    KEYLESS_TUF_ROOT: validCache,
  });
  if (init.code !== 0) throw new Error(init.stderr);
  // A fresh cache: what initialize leaves before its first refresh (the root and the mirror).
  const seed = join(work, 'seed');
  cpSync(validCache, seed, {
    recursive: true,
    filter: (p) => !/(timestamp|snapshot|targets)\.json$|[/\\]targets([/\\]|$)/.test(p.slice(validCache.length)),
  });
  const freshCache = join(work, 'fresh-cache');

  const policy = [
    artifact,
    '--bundle',
    `${artifact}.json`,
    '--certificate-identity',
    'bench@example.com',
    '--certificate-oidc-issuer',
    `${url}/oidc`,
  ];
  const none = join(work, 'no-cache');
  const variants: Record<string, () => Run> = {};
  for (const [label, bin] of [['', BIN], ...(BASELINE ? [['baseline: ', BASELINE]] : [])] as [string, string][]) {
    // Each build its own caches (a run of one must not warm or refresh the other's).
    const valid = `${validCache}${label ? '-baseline' : ''}`;
    if (label) cpSync(validCache, valid, { recursive: true });
    const fresh = `${freshCache}${label ? '-baseline' : ''}`;
    variants[`${label}no TUF (--trusted-root file)`] = () =>
      keyless(['verify-blob', ...policy, '--trusted-root', join(dataDir, 'trusted_root.json')], { KEYLESS_TUF_ROOT: none }, false, bin);
    variants[`${label}TUF, valid cache (timestamp fetched)`] = () =>
      keyless(['verify-blob', ...policy], { KEYLESS_TUF_ROOT: valid }, false, bin);
    variants[`${label}TUF, fresh cache (whole workflow)`] = () => {
      rmSync(fresh, { recursive: true, force: true });
      cpSync(seed, fresh, { recursive: true });
      return keyless(['verify-blob', ...policy], { KEYLESS_TUF_ROOT: fresh }, false, bin);
    };
  }
  // The peer, same run: sigstore-js's verify() with its TUF client pointed at the same repository.
  const peer = (cache: string) =>
    keyless(
      [
        '-e',
        `const s=require('sigstore'),fs=require('fs');s.verify(JSON.parse(fs.readFileSync(${JSON.stringify(`${artifact}.json`)},'utf8')),fs.readFileSync(${JSON.stringify(artifact)}),{tufMirrorURL:${JSON.stringify(`${url}/tuf`)},tufRootPath:${JSON.stringify(join(dataDir, 'tuf', 'root.json'))},tufCachePath:${JSON.stringify(cache)},certificateIdentityEmail:'bench@example.com',certificateIssuer:${JSON.stringify(`${url}/oidc`)}}).then(()=>{},e=>{console.error(e);process.exit(1)})`,
      ],
      {},
      true,
    );
  const peerCache = join(work, 'peer-cache');
  variants['sigstore-js verify(), TUF valid cache'] = () => peer(peerCache);
  variants['sigstore-js verify(), TUF fresh cache'] = () => {
    rmSync(join(work, 'peer-fresh'), { recursive: true, force: true });
    return peer(join(work, 'peer-fresh'));
  };
  // Node's own start-up, the floor under every row: an environment that makes it dear (e.g.
  // NODE_EXTRA_CA_CERTS, a CA bundle every node process parses at start) shows here.
  variants['node -e 0 (Node start-up alone)'] = () => keyless(['-e', '0'], {}, true);
  const times: Record<string, Run[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const run of Object.values(variants)) run(); // warm-up (V8 code cache, page cache)
  const loadBefore = loadavg();
  for (let i = 0; i < RUNS; i++) {
    for (const [name, run] of Object.entries(variants)) {
      const r = run();
      if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${r.stderr}`);
      times[name]!.push(r);
    }
  }
  const loadAfter = loadavg();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`## keyless verify-blob, one process (median of ${RUNS} interleaved runs; min-max)`);
  console.log(`load average before: ${load(loadBefore)}, after: ${load(loadAfter)}`);
  console.log(
    `NODE_EXTRA_CA_CERTS: ${process.env.NODE_EXTRA_CA_CERTS ? `${process.env.NODE_EXTRA_CA_CERTS} (parsed by every node process at start)` : 'not set'}`,
  );
  for (const [name, rs] of Object.entries(times)) {
    const wall = rs.map((r) => r.ms);
    const cpu = rs.map((r) => r.cpuMs);
    console.log(
      `${name.padEnd(50)} wall ${median(wall).toFixed(0)} ms (${Math.min(...wall).toFixed(0)}-${Math.max(...wall).toFixed(0)})` +
        `  CPU ${median(cpu).toFixed(0)} ms (${Math.min(...cpu).toFixed(0)}-${Math.max(...cpu).toFixed(0)})`,
    );
  }
  // The valid-cache target is a difference: the median of the per-round differences (each
  // round runs both back to back) is steadier on a loaded machine than a difference of medians.
  console.log('valid cache over no TUF, median of the per-round differences:');
  for (const label of ['', ...(BASELINE ? ['baseline: '] : [])]) {
    const none = times[`${label}no TUF (--trusted-root file)`]!;
    const valid = times[`${label}TUF, valid cache (timestamp fetched)`]!;
    const diff = (f: (r: Run) => number) => median(valid.map((r, i) => f(r) - f(none[i]!))).toFixed(1);
    console.log(`  ${(label || 'this build: ').padEnd(12)} wall ${diff((r) => r.ms)} ms, CPU ${diff((r) => r.cpuMs)} ms`);
  }
} finally {
  server.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
