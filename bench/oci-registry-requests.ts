// What each kind of request that `keyless sign` makes costs Debian's docker-registry 2.8.2:
// CPU (user + sys from /proc/<pid>/stat) and wall time per request, 16 at a time, in the
// order a signature makes them (resolve, bundle upload, referrer manifest, fallback index
// read, write, read back). The registry runs as in bench/oci.ts (filesystem storage on disk,
// `storage.cache.blobdescriptor: inmemory`); `--gogc N` sets the Go runtime's GOGC for it.
//
//   node --import tsx bench/oci-registry-requests.ts [--n 200] [--gogc 400]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startDockerRegistry } from '../test/support/docker-registry.js';
import { pushImage, type PushedImage } from '../test/support/images.js';
import { RegistryClient, OCI_INDEX, OCI_MANIFEST, OCI_EMPTY, EMPTY_JSON, fallbackTag, type Descriptor } from '../src/registry/index.js';
import { mapLimit } from '../src/image/map-limit.js';
import { sha256 } from '../src/core/hash.js';

const args = process.argv.slice(2);
const argValue = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const N = Number(argValue('--n') ?? 200);
const GOGC = argValue('--gogc');

const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

const registry = await startDockerRegistry({ blobDescriptorCache: true, env: GOGC ? { GOGC } : {} });
try {
  const client = new RegistryClient();
  const repo = { registry: registry.host, repository: 'bench/requests' };
  const images: PushedImage[] = [];
  for (let i = 0; i < N; i++) images.push(await pushImage(client, repo, undefined));
  const empty = await client.pushBlob(repo, EMPTY_JSON, OCI_EMPTY);
  console.log(
    `docker-registry 2.8.2${GOGC ? `, GOGC=${GOGC}` : ''}; ${N} requests of each kind, 16 at a time; load ${loadavg()[0]!.toFixed(2)}`,
  );
  const measure = async (what: string, fn: (i: number) => Promise<unknown>) => {
    const c0 = cpuMs(registry.pid);
    const t0 = performance.now();
    await mapLimit(
      images.map((_, i) => i),
      16,
      fn,
    );
    const wall = (performance.now() - t0) / N;
    console.log(
      `${what.padEnd(40)} registry CPU ${((cpuMs(registry.pid) - c0) / N).toFixed(2)} ms, wall ${wall.toFixed(2)} ms per request`,
    );
  };
  const bundles: Descriptor[] = [];
  const referrers: Buffer[] = [];
  await measure('HEAD manifest (resolve)', (i) => client.resolve(repo, images[i]!.digest));
  await measure('POST + PUT blob (bundle; two requests)', async (i) => {
    bundles[i] = await client.pushBlob(repo, randomBytes(3000), 'application/vnd.dev.sigstore.bundle.v0.3+json', { known: false });
  });
  await measure('PUT manifest by digest (referrer)', (i) => {
    const m = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: empty, layers: [bundles[i]], subject: images[i]!.descriptor }),
    );
    referrers[i] = m;
    return client.putManifest(repo, `sha256:${sha256(m).toString('hex')}`, m, OCI_MANIFEST);
  });
  await measure('GET fallback tag, absent (404)', (i) => client.tryGetManifest(repo, fallbackTag(images[i]!.digest)));
  await measure('PUT fallback index by tag', (i) => {
    const m = referrers[i]!;
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: `sha256:${sha256(m).toString('hex')}`, size: m.length }],
    };
    return client.putManifest(repo, fallbackTag(images[i]!.digest), Buffer.from(JSON.stringify(index)), OCI_INDEX);
  });
  await measure('GET fallback tag (read back)', (i) => client.tryGetManifest(repo, fallbackTag(images[i]!.digest)));
} finally {
  await registry.stop();
}
