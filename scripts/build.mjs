// Bundles the CLI and the library with esbuild. Third-party packages stay external
// (native addons, lazy loading); our own code becomes a few chunks that load fast.
// The bundle is built beside dist/ and swapped in, so a running bin/keyless never
// sees a half-written dist/.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { basename, join, sep } from 'node:path';

const dist = new URL('../dist', import.meta.url);
const staging = new URL(`../dist.tmp-${process.pid}`, import.meta.url);
const old = new URL(`../dist.old-${process.pid}`, import.meta.url);

// commander is bundled into the CLI chunk (every command parses flags with it): loading it
// through Node's CommonJS loader costs ~5 ms of `verify-bundle`'s 100 ms budget. The TUF
// client (tuf-js, @tufjs/models and what they load at start) is bundled into the lazily
// imported TUF chunk: resolving and compiling its ~40 CommonJS files one by one was about
// half of the cost of a first refresh (`bench/tuf-verify.ts`, fresh cache). Every other
// package stays external. Bundled CommonJS needs a `require`, hence the banner.
const BUNDLED_PACKAGES = new Set(['commander', 'tuf-js', '@tufjs/models', '@tufjs/canonical-json', 'debug', 'ms', '@gar/promise-retry']);
const packageName = (path) =>
  path
    .split('/')
    .slice(0, path.startsWith('@') ? 2 : 1)
    .join('/');
const externalsButBundled = {
  name: 'externals-but-bundled',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED_PACKAGES.has(packageName(args.path)) ? undefined : { external: true }));
  },
};

// A module loaded on first use of one of its exports: a stand-in that requires the real
// (external) package only then.
const lazyStandIn = (name) => ({
  contents: `module.exports = new Proxy({}, { get: (_, k) => require(${JSON.stringify(name)})[k] });`,
  loader: 'js',
});

// @tufjs/models requires minimatch at load time, for delegated roles' path patterns only;
// Keyless's repositories have no delegations, so a refresh never calls it. Lazy, it costs
// nothing until a repository with delegations is read.
const lazyMinimatchForTufModels = {
  name: 'lazy-minimatch-for-tuf-models',
  setup(b) {
    b.onResolve({ filter: /^minimatch$/ }, (args) =>
      args.importer.includes(`node_modules${sep}@tufjs${sep}models${sep}`) ? { path: 'minimatch', namespace: 'keyless-lazy' } : undefined,
    );
  },
};

// tuf-js creates its `debug` loggers at load time, and `debug` then loads node:tty and looks
// for the optional supports-color package through every node_modules directory up to the
// root (~3 ms of a first TUF refresh, bench/tuf-verify.ts). Its loggers print only when the
// DEBUG environment variable names them: without DEBUG they are silent stand-ins and the
// real package (still bundled) is never evaluated; with DEBUG set it is, as before.
const quietDebugForTufJs = {
  name: 'quiet-debug-for-tuf-js',
  setup(b) {
    b.onResolve({ filter: /^debug$/ }, (args) =>
      args.importer.includes(`node_modules${sep}tuf-js${sep}`) ? { path: 'debug', namespace: 'keyless-debug' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'keyless-debug' }, () => ({
      contents: `module.exports = process.env.DEBUG ? require('debug') : () => Object.assign(() => {}, { enabled: false });`,
      loader: 'js',
      resolveDir: fileURLToPath(new URL('..', import.meta.url)),
    }));
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
    b.onLoad({ filter: /.*/, namespace: 'keyless-lazy' }, (args) =>
      lazyStandIn(args.path === 'minimatch' ? 'minimatch' : 'node:child_process'),
    );
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
  plugins: [lazyChildProcessForCommander, lazyMinimatchForTufModels, quietDebugForTufJs, externalsButBundled],
  banner: {
    js: "import { createRequire as __keylessCreateRequire } from 'node:module'; const require = __keylessCreateRequire(import.meta.url);",
  },
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
// `--types` (npm pack / prepare) also writes the declarations package.json's `types` names;
// the test builds skip them (tsc takes ~15 s).
if (process.argv.includes('--types')) {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const r = spawnSync(
    process.execPath,
    [tsc, '-p', fileURLToPath(new URL('../tsconfig.types.json', import.meta.url)), '--outDir', `${staging.pathname}/types`],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    process.exit(r.status ?? 1);
  }
}
// The log explorer: a static page for browsers (src/explorer/app), one minified script
// and its stylesheet, page and icon, served by `keyless serve` at `/`.
await build({
  entryPoints: ['src/explorer/app/main.ts'],
  outfile: `${staging.pathname}/explorer/app.js`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox128', 'safari17'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
mkdirSync(`${staging.pathname}/explorer`, { recursive: true });
for (const f of ['index.html', 'app.css', 'favicon.svg']) copyFileSync(`src/explorer/app/${f}`, `${staging.pathname}/explorer/${f}`);
try {
  renameSync(dist, old);
} catch {
  // first build: no dist/ yet
}
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
