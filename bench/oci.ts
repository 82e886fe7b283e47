// Container images against a local stack: `keyless serve` and Debian's docker-registry on
// loopback (children of this process), images pushed by the benchmark itself.
//  1. wall time of one `keyless sign IMAGE` and one `keyless verify IMAGE` process (median);
//  2. one `keyless sign IMG1 … IMGn` call: images per second on one certificate;
//  3. for scale, `keyless sign-blob` of the image manifest; and cosign sign/verify (the peer)
//     against the same stack in the same run when cosign is installed;
//  4. registry round trips per sign and per verify, counted by the test registry in
//     test/support (with and without the referrers API).
//
// Wall time is what the targets name; CPU time (user + sys of the process, from /usr/bin/time)
// is reported beside it because it hardly moves with the machine's load. `--baseline DIR`
// measures another checkout's build (DIR/bin/keyless, e.g. main) in the same run, interleaved
// with this one, for before/after figures under the same conditions.
//
// For the batch, the CPU each process spent per image (docker-registry and `keyless serve` from
// /proc/<pid>/stat, the signing client from /usr/bin/time) and the requests docker-registry
// itself logged per image. docker-registry runs with filesystem storage on disk and
// `storage.cache.blobdescriptor: inmemory` (`--no-registry-cache` leaves the cache out).
// The batch also runs against go-containerregistry's registry, in memory, with its CPU per
// image: as `crane registry serve` (when crane is installed) and with its referrers API on.
// `--batch-only` skips the one-image processes and the peer; `--batch-rounds N` (2);
// `--registry-gogc N` adds a docker-registry run with the Go runtime's GOGC=N to the batch;
// `--registry-inmemory` one with docker-registry's in-memory storage driver (no disk);
// `--cpu-prof DIR` runs each batch's signing process with `node --cpu-prof` (profiles in DIR,
// named after the build and round; open them in Chrome DevTools or summarise with any
// .cpuprofile reader).
//
//   npm run build && node --import tsx bench/oci.ts [--runs 11] [--images 100] [--log-version 2] [--baseline DIR] [--batch-only] [--batch-rounds N] [--registry-gogc N] [--registry-inmemory] [--cpu-prof DIR]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServe } from '../test/sign/serve-helper.js';
import { startDockerRegistry } from '../test/support/docker-registry.js';
import { startSpecRegistry } from '../test/support/oci-registry.js';
import { CRANE_VERSION, findCrane, startCraneRegistry } from '../test/support/crane.js';
import { startGgcrRegistry } from '../test/support/ggcr-registry.js';
import { pushImage } from '../test/support/images.js';
import { RegistryClient } from '../src/registry/index.js';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const RUNS = Number(argValue('--runs', '11'));
const IMAGES = Number(argValue('--images', '100'));
const LOG_VERSION = Number(argValue('--log-version', '2')) as 1 | 2;
const BIN = join(process.cwd(), 'bin', 'keyless');
const BASELINE = args.includes('--baseline') ? join(resolve(argValue('--baseline', '.')), 'bin', 'keyless') : undefined;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const BATCH_ONLY = args.includes('--batch-only');
const BATCH_ROUNDS = Number(argValue('--batch-rounds', '2'));
const REGISTRY_CACHE = !args.includes('--no-registry-cache');
const REGISTRY_GOGC = args.includes('--registry-gogc') ? argValue('--registry-gogc', '400') : undefined;
const REGISTRY_INMEMORY = args.includes('--registry-inmemory');
const CPU_PROF = args.includes('--cpu-prof') ? resolve(argValue('--cpu-prof', '.')) : undefined;

/** user + sys CPU ms a live process has used (Linux; USER_HZ 100). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Timed {
  ms: number;
  /** user + sys of the process, when /usr/bin/time is there. */
  cpuMs?: number;
}

function run(
  cmd: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ ms: number; cpuMs?: number; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const [file, list] = TIME ? [TIME, ['-f', 'keyless-bench-cpu %U %S', cmd, ...argv]] : [cmd, argv];
    const child = spawn(file, list, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('close', (code) => {
      const ms = performance.now() - t0;
      const m = /keyless-bench-cpu ([\d.]+) ([\d.]+)/.exec(stderr);
      resolve({ ms, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined, code, stderr });
    });
  });
}

async function must(cmd: string, argv: string[], env?: Record<string, string>): Promise<Timed> {
  const r = await run(cmd, argv, env);
  if (r.code !== 0) throw new Error(`${cmd} ${argv.slice(0, 2).join(' ')} failed: ${r.stderr}`);
  return { ms: r.ms, cpuMs: r.cpuMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ts: Timed[]) => {
  const xs = ts.map((t) => t.ms);
  const cpu = ts.map((t) => t.cpuMs).filter((c): c is number => c !== undefined);
  return `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}, n=${xs.length})${cpu.length ? `, CPU median ${median(cpu).toFixed(0)} ms` : ''}`;
};

function cosignBinary(): string | undefined {
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim();
  for (const c of [
    process.env.KEYLESS_COSIGN,
    spawnSync('sh', ['-c', 'command -v cosign'], { encoding: 'utf8' }).stdout.trim(),
    gopath && join(gopath, 'bin', 'cosign'),
  ]) {
    if (c && spawnSync(c, ['version'], { stdio: 'ignore' }).status === 0) return c;
  }
  return undefined;
}

async function main(): Promise<void> {
  const [serve, registry] = await Promise.all([startServe(), startDockerRegistry({ blobDescriptorCache: REGISTRY_CACHE })]);
  const work = mkdtempSync(join(tmpdir(), 'keyless-bench-oci-'));
  try {
    console.log(
      `machine: ${cpus().length} cpus (${cpus()[0]?.model}), load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(
          ' ',
        )}; Rekor v${LOG_VERSION}; registry docker-registry 2.8.2 (fallback tag; filesystem storage, blobdescriptor cache ${REGISTRY_CACHE ? 'inmemory' : 'off'})`,
    );
    // A fresh identity token per use: a long run outlives the development IdP's tokens.
    const newToken = () =>
      spawnSync(process.execPath, [BIN, 'dev-token', '--url', serve.url, '--email', 'bench@example.com'], {
        encoding: 'utf8',
      }).stdout.trim();
    const token = newToken();
    const tokenFile = join(work, 'token');
    writeFileSync(tokenFile, token);
    const iss = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
    const sc = serve.signingConfig(LOG_VERSION);
    const signFlags = () => ['--identity-token', newToken(), '--signing-config', sc, '--trusted-root', serve.trustedRoot, '-y'];
    const verifyFlags = [
      '--certificate-identity',
      'bench@example.com',
      '--certificate-oidc-issuer',
      iss,
      '--trusted-root',
      serve.trustedRoot,
    ];
    const client = new RegistryClient();
    const repo = { registry: registry.host, repository: 'bench/app' };
    const builds = [{ label: 'keyless', bin: BIN }, ...(BASELINE ? [{ label: 'baseline', bin: BASELINE }] : [])];

    // 1. one image per process; the builds take turns on the same images' neighbours.
    const times = new Map<string, { sign: Timed[]; verify: Timed[]; blob: Timed[] }>();
    for (const b of builds) times.set(b.label, { sign: [], verify: [], blob: [] });
    for (let i = 0; i < (BATCH_ONLY ? 0 : RUNS + 1); i++) {
      for (const b of builds) {
        const tag = `single-${b.label}-${i}`;
        const img = await pushImage(client, repo, tag);
        const s = await must(process.execPath, [b.bin, 'sign', `${registry.host}/${repo.repository}:${tag}`, ...signFlags()]);
        const v = await must(process.execPath, [b.bin, 'verify', `${registry.host}/${repo.repository}:${tag}`, ...verifyFlags]);
        const manifest = join(work, `manifest-${b.label}-${i}.json`);
        writeFileSync(manifest, (await client.getManifest(repo, img.digest)).bytes);
        const f = await must(process.execPath, [b.bin, 'sign-blob', manifest, '--bundle', `${manifest}.sigstore.json`, ...signFlags()]);
        if (i === 0) continue; // warm-up
        const t = times.get(b.label)!;
        t.sign.push(s);
        t.verify.push(v);
        t.blob.push(f);
      }
    }
    for (const b of BATCH_ONLY ? [] : builds) {
      const t = times.get(b.label)!;
      console.log(`${b.label} sign IMAGE (tag)        ${fmt(t.sign)}`);
      console.log(`${b.label} verify IMAGE (tag)      ${fmt(t.verify)}`);
      console.log(`${b.label} sign-blob manifest.json ${fmt(t.blob)}`);
    }

    // 2. many images, one command, one certificate (each build its own images; alternating rounds).
    // With --registry-gogc N a second docker-registry runs with the Go runtime's GOGC=N (its
    // request handling is bound by garbage collection; same storage settings) and takes turns.
    const registries = [{ label: '', reg: registry }];
    if (REGISTRY_GOGC) {
      const tuned = await startDockerRegistry({ blobDescriptorCache: REGISTRY_CACHE, env: { GOGC: REGISTRY_GOGC } });
      registries.push({ label: ` GOGC=${REGISTRY_GOGC}`, reg: tuned });
    }
    if (REGISTRY_INMEMORY) {
      const inMemory = await startDockerRegistry({ blobDescriptorCache: REGISTRY_CACHE, storage: 'inmemory' });
      registries.push({ label: ' (inmemory storage driver)', reg: inMemory });
    }
    try {
      for (let round = 0; round < BATCH_ROUNDS; round++) {
        for (const { label, reg } of registries) {
          const brepo = { registry: reg.host, repository: 'bench/app' };
          for (const b of builds) {
            const many: string[] = [];
            for (let i = 0; i < IMAGES; i++) many.push((await pushImage(client, brepo, `many-${b.label}-${round}-${i}`)).ref);
            const flags = signFlags();
            const logFrom = reg.log().length;
            const [reg0, serve0] = [processCpuMs(reg.pid), processCpuMs(serve.child.pid!)];
            const prof = CPU_PROF
              ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF, '--cpu-prof-name', `sign-${b.label}-${round}${label.trim()}.cpuprofile`]
              : [];
            const batch = await must(process.execPath, [...prof, b.bin, 'sign', ...many, ...flags]);
            const [reg1, serve1] = [processCpuMs(reg.pid), processCpuMs(serve.child.pid!)];
            const requests = reg
              .log()
              .slice(logFrom)
              .split('\n')
              .filter((l) => l.includes('msg="response completed')).length;
            const perImage = (ms: number) => (ms / IMAGES).toFixed(1);
            console.log(
              `${b.label} sign ${IMAGES} images in one command, docker-registry${label}: ${batch.ms.toFixed(0)} ms = ${(IMAGES / (batch.ms / 1000)).toFixed(1)} images/s; ` +
                `CPU per image: docker-registry ${perImage(reg1 - reg0)} ms, keyless serve ${perImage(serve1 - serve0)} ms` +
                `${batch.cpuMs ? `, sign process ${perImage(batch.cpuMs)} ms` : ''}; docker-registry requests ${(requests / IMAGES).toFixed(2)}/image; load ${loadavg()[0]!.toFixed(2)}`,
            );
          }
        }
      }
    } finally {
      await Promise.all(registries.slice(1).map((r) => r.reg.stop()));
    }
    // The same batch against go-containerregistry's registry (in memory): as `crane registry
    // serve` runs it (no referrers API: the fallback tag) when crane is installed, and with its
    // referrers API on (test/support/ggcr-registry, built with Go).
    const others: { label: string; start: () => Promise<{ host: string; pid: number; stop(): Promise<void> }> }[] = [];
    try {
      const crane = findCrane();
      others.push({ label: `crane registry serve ${CRANE_VERSION} (in memory, fallback tag)`, start: () => startCraneRegistry(crane) });
    } catch {
      console.log('crane: not installed, its registry not measured');
    }
    others.push({ label: "go-containerregistry's registry (in memory, referrers API)", start: () => startGgcrRegistry() });
    for (const other of others) {
      const reg = await other.start();
      try {
        const crepo = { registry: reg.host, repository: 'bench/app' };
        for (let round = 0; round < BATCH_ROUNDS; round++) {
          const many: string[] = [];
          for (let i = 0; i < IMAGES; i++) many.push((await pushImage(client, crepo, `many-${round}-${i}`)).ref);
          const flags = signFlags();
          const [reg0, serve0] = [processCpuMs(reg.pid), processCpuMs(serve.child.pid!)];
          const batch = await must(process.execPath, [BIN, 'sign', ...many, ...flags]);
          const [reg1, serve1] = [processCpuMs(reg.pid), processCpuMs(serve.child.pid!)];
          const perImage = (ms: number) => (ms / IMAGES).toFixed(1);
          console.log(
            `keyless sign ${IMAGES} images in one command, ${other.label}: ${batch.ms.toFixed(0)} ms = ${(IMAGES / (batch.ms / 1000)).toFixed(1)} images/s; ` +
              `CPU per image: registry ${perImage(reg1 - reg0)} ms, keyless serve ${perImage(serve1 - serve0)} ms` +
              `${batch.cpuMs ? `, sign process ${perImage(batch.cpuMs)} ms` : ''}; load ${loadavg()[0]!.toFixed(2)}`,
          );
        }
      } finally {
        await reg.stop();
      }
    }

    // For scale: the same number of manifests signed as files (no registry) in one command.
    const files: string[] = [];
    for (let i = 0; i < IMAGES; i++) {
      const f = join(work, `m-${i}.json`);
      writeFileSync(f, `{"n":${i}}`);
      files.push(f);
    }
    const outDir = mkdtempSync(join(work, 'out-'));
    // Only for scale: a failure here is reported, and the run goes on to the peer.
    const blobs = await run(process.execPath, [BIN, 'sign-blob', ...files, '--output-dir', outDir, ...signFlags()]);
    console.log(
      blobs.code === 0
        ? `keyless sign-blob ${IMAGES} files in one command: ${blobs.ms.toFixed(0)} ms = ${(IMAGES / (blobs.ms / 1000)).toFixed(1)} files/s`
        : `keyless sign-blob ${IMAGES} files in one command failed: ${blobs.stderr.split('\n')[0]}`,
    );

    // 3. the peer, same stack, same run.
    const cosign = BATCH_ONLY ? undefined : cosignBinary();
    if (cosign) {
      const cSign: Timed[] = [];
      const cVerify: Timed[] = [];
      const env = { HOME: work };
      for (let i = 0; i < Math.min(RUNS, 5) + 1; i++) {
        const img = await pushImage(client, repo, `cosign-${i}`);
        writeFileSync(tokenFile, newToken());
        const s = await must(
          cosign,
          ['sign', '--identity-token', tokenFile, '--signing-config', sc, '--trusted-root', serve.trustedRoot, '-y', img.ref],
          env,
        );
        const v = await must(
          cosign,
          [
            'verify',
            '--trusted-root',
            serve.trustedRoot,
            '--certificate-identity',
            'bench@example.com',
            '--certificate-oidc-issuer',
            iss,
            img.ref,
          ],
          env,
        );
        if (i === 0) continue;
        cSign.push(s);
        cVerify.push(v);
      }
      console.log(`cosign sign IMAGE@digest        ${fmt(cSign)}`);
      console.log(`cosign verify IMAGE@digest      ${fmt(cVerify)}`);
    } else {
      console.log(BATCH_ONLY ? 'cosign: not measured (--batch-only)' : 'cosign: not installed, peer not measured');
    }

    // 4. round trips, counted by the registry (the test registry, with and without the referrers API).
    for (const referrersApi of [false, true]) {
      const counted = await startSpecRegistry({ referrersApi });
      try {
        const crepo = { registry: counted.host, repository: 'bench/app' };
        const trips: Array<[number, number]> = [];
        for (let i = 0; i < 3; i++) {
          await pushImage(client, crepo, `rt-${i}`);
          const before = counted.requests.length;
          await must(process.execPath, [BIN, 'sign', `${counted.host}/bench/app:rt-${i}`, ...signFlags()]);
          const mid = counted.requests.length;
          await must(process.execPath, [BIN, 'verify', `${counted.host}/bench/app:rt-${i}`, ...verifyFlags]);
          trips.push([mid - before, counted.requests.length - mid]);
        }
        // The registry's share of a batch: the same command against this in-memory registry.
        const refs: string[] = [];
        for (let i = 0; i < IMAGES; i++) refs.push((await pushImage(client, crepo, `many-${i}`)).ref);
        const { ms } = await must(process.execPath, [BIN, 'sign', ...refs, ...signFlags()]);
        console.log(
          `keyless sign ${IMAGES} images, in-memory test registry (${referrersApi ? 'referrers API' : 'fallback tag'}): ${(IMAGES / (ms / 1000)).toFixed(1)} images/s`,
        );
        const [s, v] = trips[trips.length - 1]!;
        console.log(
          `round trips (${referrersApi ? 'referrers API' : 'fallback tag'}): sign ${s}, verify ${v} (the first image of a repository: ${trips[0]![0]} / ${trips[0]![1]})`,
        );
      } finally {
        await counted.stop();
      }
    }
  } finally {
    await Promise.all([registry.stop(), serve.stop()]);
  }
}

await main();
