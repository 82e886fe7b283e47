// Signing client speed against a local stack (`keyless serve` as a real child process):
//  1. wall time of one `keyless sign-blob` process (token from `keyless dev-token`);
//  2. one `keyless sign-blob --output-dir` call signing N files with one certificate;
// next to sigstore-js (`sigstore` package) signing against the same stack in the same run.
//
//   npm run build && node --import tsx bench/sign.ts [--runs 10] [--files 1000] [--log-version 1,2]
//       [--baseline DIR] [--batch-rounds 1]
// --baseline DIR: another built checkout (e.g. `git archive` of an older commit + `npm run
// build`) whose `bin/keyless sign-blob` also signs the batch, against the same server and in
// alternating rounds with this checkout's, for before/after figures from one run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(argValue('--runs', '10'));
const FILES = Number(argValue('--files', '1000'));
const LOG_VERSIONS = argValue('--log-version', '1,2').split(',').map(Number) as Array<1 | 2>;
const BIN = join(process.cwd(), 'bin', 'keyless');
const BASELINE = args.includes('--baseline') ? join(argValue('--baseline', ''), 'bin', 'keyless') : undefined;
const BATCH_ROUNDS = Number(argValue('--batch-rounds', '1'));

interface Stack {
  url: string;
  dir: string;
  child: ChildProcess;
}

async function startServe(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-sign-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', join(dir, 'data'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => /^https?:\/\//.test(l));
      if (line) resolve(line.trim());
    });
    child.on('exit', (code) => reject(new Error(`keyless serve exited ${code}: ${err}`)));
  });
  return { url, dir, child };
}

function devToken(url: string, email: string): string {
  const r = spawnSync(process.execPath, [BIN, 'dev-token', '--url', url, '--email', email], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dev-token failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** A signing config naming only the log API version under test (both are served). */
function signingConfigFor(stack: Stack, version: 1 | 2): string {
  const sc = JSON.parse(readFileSync(join(stack.dir, 'data', 'signing_config.json'), 'utf8')) as {
    rekorTlogUrls: Array<{ majorApiVersion: number }>;
  };
  sc.rekorTlogUrls = sc.rekorTlogUrls.filter((s) => s.majorApiVersion === version);
  const file = join(stack.dir, `signing_config.v${version}.json`);
  writeFileSync(file, JSON.stringify(sc));
  return file;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeProcess(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return ms;
}

// sigstore-js's signer: the CA, the TSA and the log of the given major API version (as its
// own docs build it: FulcioSigner + RekorWitness + TSAWitness), one bundle per artifact.
const SIGSTORE_JS = `
const { MessageSignatureBundleBuilder, FulcioSigner, RekorWitness, TSAWitness } = require('@sigstore/sign');
const { bundleToJSON } = require('@sigstore/bundle');
const fs = require('fs');
const path = require('path');
const [inputs, outDir, token, fulcio, rekor, tsa, version, concurrency] = process.argv.slice(1);
const files = fs.statSync(inputs).isDirectory() ? fs.readdirSync(inputs).map((f) => path.join(inputs, f)) : [inputs];
async function signOne(file) {
  const builder = new MessageSignatureBundleBuilder({
    signer: new FulcioSigner({ fulcioBaseURL: fulcio, identityProvider: { getToken: async () => token } }),
    witnesses: [new RekorWitness({ rekorBaseURL: rekor, majorApiVersion: Number(version) }), new TSAWitness({ tsaBaseURL: tsa })],
  });
  const b = bundleToJSON(await builder.create({ data: fs.readFileSync(file) }));
  fs.writeFileSync(path.join(outDir, path.basename(file) + '.sigstore.json'), JSON.stringify(b));
}
let next = 0;
async function worker() { for (let i = next++; i < files.length; i = next++) await signOne(files[i]); }
Promise.all(Array.from({ length: Number(concurrency) }, worker)).catch((e) => { console.error(e.message, e.cause && e.cause.message); process.exit(1); });
`;

interface Figures {
  ours: number[];
  peer: number[];
  batchMs: number[];
  baselineMs: number[];
  peerBatchMs: number;
}

async function measure(stack: Stack, version: 1 | 2): Promise<Figures> {
  const work = join(stack.dir, `work-v${version}`);
  mkdirSync(work);
  const artifact = join(work, 'artifact.bin');
  writeFileSync(artifact, 'bench artifact\n');
  const config = signingConfigFor(stack, version);
  const root = join(stack.dir, 'data', 'trusted_root.json');
  const token = devToken(stack.url, 'bench@example.com');
  const sc = JSON.parse(readFileSync(config, 'utf8')) as {
    caUrls: Array<{ url: string }>;
    rekorTlogUrls: Array<{ url: string }>;
    tsaUrls: Array<{ url: string }>;
  };
  const peerArgs = (inputs: string, out: string, tok: string, conc: number) => [
    '-e',
    SIGSTORE_JS,
    inputs,
    out,
    tok,
    sc.caUrls[0]!.url,
    sc.rekorTlogUrls[0]!.url,
    sc.tsaUrls[0]!.url,
    String(version),
    String(conc),
  ];
  const sign = (i: number | string) => [
    BIN,
    'sign-blob',
    artifact,
    '--bundle',
    join(work, `one-${i}.json`),
    '--signing-config',
    config,
    '--trusted-root',
    root,
    '--identity-token',
    token,
  ];

  // Warm up the server and the page cache.
  timeProcess(sign('warm'));
  timeProcess(peerArgs(artifact, work, token, 1));
  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(timeProcess(sign(i)));
    peer.push(timeProcess(peerArgs(artifact, work, token, 1)));
  }

  const inputs = join(work, 'inputs');
  mkdirSync(inputs);
  for (let i = 0; i < FILES; i++) writeFileSync(join(inputs, `f${String(i).padStart(5, '0')}.txt`), `file ${i} v${version}\n`);
  const files = readdirSync(inputs).map((f) => join(inputs, f));
  const batch = (bin: string, name: string): number => {
    const outDir = join(work, name);
    mkdirSync(outDir);
    const ms = timeProcess([
      bin,
      'sign-blob',
      ...files,
      '--output-dir',
      outDir,
      '--signing-config',
      config,
      '--trusted-root',
      root,
      '--identity-token',
      devToken(stack.url, 'batch@example.com'),
    ]);
    if (readdirSync(outDir).length !== FILES) throw new Error(`batch ${name} did not write every bundle`);
    return ms;
  };
  const batchMs: number[] = [];
  const baselineMs: number[] = [];
  for (let r = 0; r < BATCH_ROUNDS; r++) {
    // ABBA order, so that a drifting server or machine load favours neither side.
    if (BASELINE && r % 2 === 0) baselineMs.push(batch(BASELINE, `baseline-out-${r}`));
    batchMs.push(batch(BIN, `out-${r}`));
    if (BASELINE && r % 2 === 1) baselineMs.push(batch(BASELINE, `baseline-out-${r}`));
  }
  const peerOut = join(work, 'peer-out');
  mkdirSync(peerOut);
  const peerBatchMs = timeProcess(peerArgs(inputs, peerOut, devToken(stack.url, 'batch@example.com'), 16));
  if (readdirSync(peerOut).length !== FILES) throw new Error('sigstore-js did not write every bundle');
  return { ours, peer, batchMs, baselineMs, peerBatchMs };
}

const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;

async function main(): Promise<void> {
  const stack = await startServe();
  try {
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) bare.push(timeProcess(['-e', '0']));
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `machine: ${cpus().length} x ${cpu}, node ${process.version}, ${new Date().toISOString()}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log(`runs: ${RUNS}; batch: ${FILES} files; node -e 0 median ${median(bare).toFixed(0)} ms`);
    for (const v of LOG_VERSIONS) {
      const f = await measure(stack, v);
      console.log(`Rekor v${v}: keyless sign-blob, one process: ${fmt(f.ours)}`);
      console.log(`Rekor v${v}: sigstore-js (@sigstore/sign), one process: ${fmt(f.peer)}`);
      const rates = (xs: number[]) => xs.map((ms) => `${ms.toFixed(0)} ms = ${(FILES / (ms / 1000)).toFixed(0)} files/s`).join('; ');
      if (BASELINE)
        console.log(`Rekor v${v}: baseline (${BASELINE}) sign-blob --output-dir, ${FILES} files, one certificate: ${rates(f.baselineMs)}`);
      console.log(`Rekor v${v}: keyless sign-blob --output-dir, ${FILES} files, one certificate: ${rates(f.batchMs)}`);
      console.log(
        `Rekor v${v}: sigstore-js, ${FILES} files in one process (16 concurrent, a certificate per file, its design): ${f.peerBatchMs.toFixed(0)} ms = ${(FILES / (f.peerBatchMs / 1000)).toFixed(0)} files/s`,
      );
    }
    console.log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    stack.child.kill('SIGTERM');
    await new Promise((r) => stack.child.once('exit', r));
    rmSync(stack.dir, { recursive: true, force: true });
  }
}

await main();
