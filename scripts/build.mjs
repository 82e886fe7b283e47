// Bundles the CLI and the library with esbuild. Third-party packages stay external
// (native addons, lazy loading); our own code becomes a few chunks that load fast.
// The bundle is built beside dist/ and swapped in, so a running bin/keyless never
// sees a half-written dist/.
import { build } from 'esbuild';
import { renameSync, rmSync } from 'node:fs';

const dist = new URL('../dist', import.meta.url);
const staging = new URL(`../dist.tmp-${process.pid}`, import.meta.url);
const old = new URL(`../dist.old-${process.pid}`, import.meta.url);

await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  outdir: staging.pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
});
try {
  renameSync(dist, old);
} catch {
  // first build: no dist/ yet
}
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
