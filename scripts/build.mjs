// Bundles the CLI and the library with esbuild. Third-party packages stay external
// (native addons, lazy loading); our own code becomes a few chunks that load fast.
// The bundle is built beside dist/ and swapped in, so a running bin/keyless never
// sees a half-written dist/.
import { build } from 'esbuild';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join, sep } from 'node:path';

const dist = new URL('../dist', import.meta.url);
const staging = new URL(`../dist.tmp-${process.pid}`, import.meta.url);
const old = new URL(`../dist.old-${process.pid}`, import.meta.url);

// commander is bundled into the CLI chunk (every command parses flags with it): loading it
// through Node's CommonJS loader costs ~5 ms of `verify-bundle`'s 100 ms budget. Every
// other package stays external. Bundled CommonJS needs a `require`, hence the banner.
const externalsButCommander = {
  name: 'externals-but-commander',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path === 'commander' ? undefined : { external: true }));
  },
};

// commander requires node:child_process at load time, for executable subcommands we never
// use; loading that builtin costs 2-5 ms of every CLI start. Give commander a lazy stand-in.
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes(`node_modules${sep}commander${sep}`) ? { path: 'child_process', namespace: 'keyless-lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'keyless-lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, k) => require('node:child_process')[k] });",
      loader: 'js',
    }));
  },
};

// Every src/**/<name>.worker.ts becomes dist/workers/<name>.worker.js (src/core/worker-rpc.ts
// finds it there by that name), sharing chunks with the library.
const workerEntryPoints = {};
for (const file of readdirSync('src', { recursive: true })) {
  if (!file.endsWith('.worker.ts')) continue;
  const name = `workers/${basename(file, '.ts')}`;
  if (workerEntryPoints[name]) throw new Error(`two worker modules named ${basename(file)}`);
  workerEntryPoints[name] = join('src', file);
}

await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts', ...workerEntryPoints },
  outdir: staging.pathname,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  plugins: [lazyChildProcessForCommander, externalsButCommander],
  banner: { js: "import { createRequire as __keylessCreateRequire } from 'node:module'; const require = __keylessCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
});
// The verify commands' implementation once more, as one CommonJS file that
// src/cli/commands/verify-loader.ts compiles with a V8 code cache (verify-bundle's start).
await build({
  entryPoints: ['src/cli/commands/verify-command.ts'],
  outfile: `${staging.pathname}/verify-command.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  define: { 'import.meta.url': '__keylessModuleUrl' },
  logLevel: 'warning',
});
try {
  renameSync(dist, old);
} catch {
  // first build: no dist/ yet
}
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
