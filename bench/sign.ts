// Signing client speed against a local stack (`keyless serve` as a real child process):
//  1. wall time of one `keyless sign-blob` process (token from `keyless dev-token`);
//  2. one `keyless sign-blob --output-dir` call signing N files with one certificate;
// next to sigstore-js (`sigstore` package) signing against the same stack in the same run.
//
//   npm run build && node --import tsx bench/sign.ts [--runs 10] [--files 1000] [--log-version 1|2]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(argValue('--runs', '10'));
const FILES = Number(argValue('--files', '1000'));
const LOG_VERSION = Number(argValue('--log-version', '1')) as 1 | 2;
const BIN = join(process.cwd(), 'bin', 'keyless');

interface Stack { url: string; dir: string; child: ChildProcess }

async function startServe(): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-sign-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', join(dir, 'data'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  const sc = JSON.parse(readFileSync(join(stack.dir, 'data', 'signing_config.json'), 'utf8')) as { rekorTlogUrls: Array<{ majorApiVersion: number }> };
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

const SIGSTORE_JS_ONE = `
const { sign } = require('sigstore');
const fs = require('fs');
const [file, out, token, fulcio, rekor, tsa] = process.argv.slice(1);
sign(fs.readFileSync(file), { fulcioURL: fulcio, rekorURL: rekor, tsaServerURL: tsa, identityToken: token })
  .then((b) => fs.writeFileSync(out, JSON.stringify(b)))
  .catch((e) => { console.error(e.message, e.cause && e.cause.message); process.exit(1); });
`;

const SIGSTORE_JS_MANY = `
const { sign } = require('sigstore');
const fs = require('fs');
const path = require('path');
const [dir, outDir, token, fulcio, rekor, tsa, concurrency] = process.argv.slice(1);
const files = fs.readdirSync(dir);
let next = 0;
async function worker() {
  for (let i = next++; i < files.length; i = next++) {
    const b = await sign(fs.readFileSync(path.join(dir, files[i])), { fulcioURL: fulcio, rekorURL: rekor, tsaServerURL: tsa, identityToken: token });
    fs.writeFileSync(path.join(outDir, files[i] + '.sigstore.json'), JSON.stringify(b));
  }
}
Promise.all(Array.from({ length: Number(concurrency) }, worker)).catch((e) => { console.error(e.message); process.exit(1); });
`;

async function main(): Promise<void> {
  const stack = await startServe();
  try {
    const work = join(stack.dir, 'work');
    mkdirSync(work);
    const artifact = join(work, 'artifact.bin');
    writeFileSync(artifact, 'bench artifact\n');
    const config = signingConfigFor(stack, LOG_VERSION);
    const root = join(stack.dir, 'data', 'trusted_root.json');
    const token = devToken(stack.url, 'bench@example.com');
    const sc = JSON.parse(readFileSync(config, 'utf8')) as { caUrls: Array<{ url: string }>; rekorTlogUrls: Array<{ url: string }>; tsaUrls: Array<{ url: string }> };

    // Warm up the server and the page cache.
    timeProcess([BIN, 'sign-blob', artifact, '--bundle', join(work, 'warm.json'), '--signing-config', config, '--trusted-root', root, '--identity-token', token]);

    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(timeProcess([BIN, 'sign-blob', artifact, '--bundle', join(work, `one-${i}.json`), '--signing-config', config, '--trusted-root', root, '--identity-token', token]));
    }
    const peer: number[] = [];
    const peerOk = LOG_VERSION === 1;
    if (peerOk) {
      for (let i = 0; i < RUNS; i++) {
        peer.push(timeProcess(['-e', SIGSTORE_JS_ONE, artifact, join(work, `peer-${i}.json`), token, sc.caUrls[0]!.url, sc.rekorTlogUrls[0]!.url, sc.tsaUrls[0]!.url]));
      }
    }
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) bare.push(timeProcess(['-e', '0']));

    const inputs = join(work, 'inputs');
    mkdirSync(inputs);
    for (let i = 0; i < FILES; i++) writeFileSync(join(inputs, `f${String(i).padStart(5, '0')}.txt`), `file ${i}\n`);
    const files = readdirSync(inputs).map((f) => join(inputs, f));
    const outDir = join(work, 'out');
    mkdirSync(outDir);
    const batchMs = timeProcess([BIN, 'sign-blob', ...files, '--output-dir', outDir, '--signing-config', config, '--trusted-root', root, '--identity-token', devToken(stack.url, 'batch@example.com')]);
    if (readdirSync(outDir).length !== FILES) throw new Error('batch did not write every bundle');

    let peerBatchMs: number | undefined;
    if (peerOk) {
      const peerOut = join(work, 'peer-out');
      mkdirSync(peerOut);
      peerBatchMs = timeProcess(['-e', SIGSTORE_JS_MANY, inputs, peerOut, devToken(stack.url, 'batch@example.com'), sc.caUrls[0]!.url, sc.rekorTlogUrls[0]!.url, sc.tsaUrls[0]!.url, '16']);
    }

    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(`machine: ${cpus().length} x ${cpu}, node ${process.version}, ${new Date().toISOString()}`);
    console.log(`log API: Rekor v${LOG_VERSION}; runs: ${RUNS}; batch: ${FILES} files`);
    console.log(`keyless sign-blob, one process, wall time median: ${median(ours).toFixed(0)} ms (min ${Math.min(...ours).toFixed(0)}, max ${Math.max(...ours).toFixed(0)})`);
    if (peerOk) console.log(`sigstore-js sign(), one process, wall time median: ${median(peer).toFixed(0)} ms (min ${Math.min(...peer).toFixed(0)}, max ${Math.max(...peer).toFixed(0)})`);
    console.log(`node -e 0, median: ${median(bare).toFixed(0)} ms`);
    console.log(`keyless sign-blob --output-dir, ${FILES} files, one certificate: ${batchMs.toFixed(0)} ms = ${(FILES / (batchMs / 1000)).toFixed(0)} files/s`);
    if (peerBatchMs !== undefined) console.log(`sigstore-js sign() x ${FILES} in one process (16 concurrent, one certificate per file, its design): ${peerBatchMs.toFixed(0)} ms = ${(FILES / (peerBatchMs / 1000)).toFixed(0)} files/s`);
  } finally {
    stack.child.kill('SIGTERM');
    await new Promise((r) => stack.child.once('exit', r));
    rmSync(stack.dir, { recursive: true, force: true });
  }
}

await main();
