// Verifying many files in one command: `keyless verify-blob FILE... --bundle-dir DIR` with
// one verification thread (--jobs 1: the main thread, the single-core path) and with the
// worker pool on every core, next to sigstore-js (@sigstore/verify) verifying the same
// bundles in one process (bench/verify-sigstore-js.cjs --manifest), all in the same run.
// Bundles come from a real `keyless serve` (Rekor v1, TSA, CT): one set signed as one batch
// (one certificate, as `keyless sign-blob --output-dir` signs a release), one set signed file by file (a certificate per bundle, as per-file cosign runs
// make, so no per-certificate work is shared). Also --jobs 1 under `node --single-threaded`
// (V8 compiles and collects garbage on background threads; with them off, one core only).
//
//   npm run build && node --import tsx bench/verify-many.ts [--files 1000] [--rounds 3] [--file-bytes 4096] [--baseline DIR]
// (--baseline DIR: also run DIR/bin/keyless, another built checkout, in the same rounds)
// (needs GNU time at /usr/bin/time for each process's CPU seconds; --keep leaves the files,
// bundles and trusted root in a temporary directory for profiling)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServe, keyless, BIN } from '../test/sign/serve-helper.js';
import { signBlobs, selectServices } from '../src/sign/index.js';
import { loadSigningConfig, readJsonFile } from '../src/cli/files.js';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const FILES = Number(argValue('--files', '1000'));
const ROUNDS = Number(argValue('--rounds', '3'));
const FILE_BYTES = Number(argValue('--file-bytes', '4096'));
// Another checkout's built bin/keyless, measured in the same rounds (a before/after comparison).
const BASELINE = args.includes('--baseline') ? join(argValue('--baseline', '.'), 'bin', 'keyless') : undefined;
const EMAIL = 'release@example.com';
const SINGLE_THREADED = 'keyless --jobs 1, node --single-threaded (one core)';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

console.log(`# verify-many benchmark — ${new Date().toISOString()} — ${cpus()[0]?.model} x${cpus().length} — node ${process.version}`);
console.log(`${FILES} files of ${FILE_BYTES} bytes; load average at start: ${load()}`);

const serve = await startServe();
const work = mkdtempSync(join(tmpdir(), 'keyless-bench-verify-many-'));
try {
  const t = await keyless(['dev-token', '--url', serve.url, '--email', EMAIL]);
  if (t.code !== 0) throw new Error(`dev-token: ${t.stderr}`);
  const token = t.stdout.trim();
  const issuer = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
  const signingConfig = serve.signingConfig(1);
  mkdirSync(join(work, 'dist'));
  const files = Array.from({ length: FILES }, (_, i) => {
    const p = join(work, 'dist', `artifact-${String(i).padStart(4, '0')}.bin`);
    writeFileSync(p, randomBytes(FILE_BYTES));
    return p;
  });

  // Set 1: one batch with one certificate, as `keyless sign-blob --output-dir` signs.
  const oneCert = join(work, 'one-certificate');
  let t0 = performance.now();
  // Through the library's signBlobs, the code under `keyless sign-blob --output-dir`, with 32
  // files in flight: signing is not what is measured, and on a loaded machine fewer calls at
  // once keep the server's answers well within the client's timeouts.
  const options = {
    services: selectServices(loadSigningConfig(signingConfig)),
    trustedRoot: readJsonFile(serve.trustedRoot, 'trusted root'),
    getToken: async () => token,
  };
  const bundleName = (file: string) => `${file.split('/').pop()}.sigstore.json`;
  mkdirSync(oneCert);
  await signBlobs(
    FILES,
    (i) => ({ bytes: readFileSync(files[i]!) }),
    { ...options, concurrency: 32 },
    {
      write: (i, text) => writeFileSync(join(oneCert, bundleName(files[i]!)), text),
    },
  );
  console.log(`signed ${FILES} files with one certificate in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Set 2: each file signed alone (its own key and certificate), through the library.
  const perFile = join(work, 'certificate-per-file');
  mkdirSync(perFile);
  t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < FILES; i = next++) {
        const file = files[i]!;
        for (let attempt = 1; ; attempt++) {
          try {
            await signBlobs(1, () => ({ bytes: readFileSync(file) }), options, {
              write: (_, text) => writeFileSync(join(perFile, bundleName(file)), text),
            });
            break;
          } catch (e) {
            if (attempt === 3) throw e;
          }
        }
      }
    }),
  );
  console.log(`signed ${FILES} files one by one (a certificate each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  copyFileSync(serve.trustedRoot, join(work, 'trusted_root.json'));
  const policy = ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer, '--trusted-root', serve.trustedRoot];
  for (const [name, dir] of [
    ['one certificate (a sign-blob --output-dir batch)', oneCert],
    ['a certificate per file', perFile],
  ] as const) {
    const manifest = join(work, `${dir.split('/').pop()}.manifest`);
    writeFileSync(manifest, files.map((f) => `${f} ${join(dir, `${f.split('/').pop()}.sigstore.json`)}\n`).join(''));
    const commands: Record<string, string[]> = {
      'keyless --jobs 1 (single core)': [BIN, 'verify-blob', ...files, '--bundle-dir', dir, ...policy, '--jobs', '1'],
      [`keyless pool (${cpus().length} threads)`]: [BIN, 'verify-blob', ...files, '--bundle-dir', dir, ...policy],
      // --jobs 1 is one verification thread, not one core: V8 compiles and collects garbage on
      // background threads beside it. With them off, the process uses one core only.
      [SINGLE_THREADED]: ['--single-threaded', BIN, 'verify-blob', ...files, '--bundle-dir', dir, ...policy, '--jobs', '1'],
      ...(BASELINE
        ? {
            'baseline --jobs 1': [BASELINE, 'verify-blob', ...files, '--bundle-dir', dir, ...policy, '--jobs', '1'],
            [`baseline pool (${cpus().length} threads)`]: [BASELINE, 'verify-blob', ...files, '--bundle-dir', dir, ...policy],
          }
        : {}),
      'sigstore-js (@sigstore/verify, one process)': [
        join(import.meta.dirname, 'verify-sigstore-js.cjs'),
        '--manifest',
        manifest,
        serve.trustedRoot,
        EMAIL,
        issuer,
      ],
    };
    const times: Record<string, number[]> = {};
    const peerRefusals: Record<string, Set<number>> = {};
    const cpu: Record<string, number[]> = {};
    const loads: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const [label, argv] of Object.entries(commands)) {
        const start = performance.now();
        // GNU time: the process's CPU time (user + system, every thread), which load does not inflate.
        const cpuFile = join(work, 'cpu.txt');
        const run = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, process.execPath, ...argv], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        const ms = performance.now() - start;
        const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        (cpu[label] ??= []).push(user! + sys!);
        if (run.status !== 0) throw new Error(`${label} exited ${run.status}: ${run.stderr.slice(0, 2000)}`);
        const verdicts = run.stdout.split('\n').filter((l) => l.includes('Verified OK')).length;
        // sigstore-js now and then refuses a timestamp that Keyless and cosign verify
        // (bench/verify-sigstore-js.cjs); it still verified every other file, so the run counts.
        const refused = run.stdout.split('\n').filter((l) => l.includes(': FAILED: TIMESTAMP_ERROR'));
        if (refused.length > 0) (peerRefusals[label] ??= new Set()).add(refused.length);
        const expected = label.startsWith('sigstore-js') ? FILES - refused.length : FILES;
        if (verdicts !== expected || refused.length > FILES / 100) throw new Error(`${label}: ${verdicts} verdicts for ${FILES} files`);
        (times[label] ??= []).push(ms);
      }
      loads.push(load());
    }
    console.log(`\n## ${name}: ${FILES} bundles, median wall time of ${ROUNDS} interleaved rounds (whole process, start-up included)`);
    const single = FILES / (median(times['keyless --jobs 1 (single core)']!) / 1000);
    const js = FILES / (median(times['sigstore-js (@sigstore/verify, one process)']!) / 1000);
    for (const [label, ts] of Object.entries(times)) {
      const rate = FILES / (median(ts) / 1000);
      console.log(
        `${label}: ${median(ts).toFixed(0)} ms, ${rate.toFixed(0)} files/s (${(rate / single).toFixed(2)}x single core, ${(rate / js).toFixed(1)}x sigstore-js); CPU ${median(cpu[label]!).toFixed(2)} s`,
      );
    }
    const pool = FILES / (median(times[`keyless pool (${cpus().length} threads)`]!) / 1000);
    const oneCore = FILES / (median(times[SINGLE_THREADED]!) / 1000);
    console.log(`pool vs one core (--jobs 1, V8's background threads off): ${(pool / oneCore).toFixed(2)}x`);
    console.log(`load average after each round: ${loads.join(' | ')}`);
    for (const [label, counts] of Object.entries(peerRefusals))
      console.log(`${label} refused ${[...counts].join(' / ')} of ${FILES} (timestamp re-encoding; cosign and Keyless verify them)`);
  }
} finally {
  await serve.stop();
  if (args.includes('--keep')) console.log(`kept ${work} (files in dist/, bundles, trusted_root.json)`);
  else rmSync(work, { recursive: true, force: true });
}
