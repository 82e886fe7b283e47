// The folders under src/ are layers (docs/contributing.md). A module may import only
// from its own layer or from layers listed before it; the client side (verify, sign)
// never reaches into the services, the log engine or the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const ORDER = [
  'core',
  'formats',
  'registry',
  'merkle',
  'x509',
  'oidc',
  'verify',
  'monitor',
  'log',
  'tuf',
  'services',
  'server',
  'sign',
  'image',
  'cli',
  'explorer',
];
const FORBIDDEN: Record<string, string[]> = {
  verify: ['log', 'services', 'server'],
  monitor: ['log', 'services', 'server', 'sign', 'tuf'],
  sign: ['log', 'services', 'server'],
  tuf: ['log'],
  image: ['log', 'services', 'server'],
  // The explorer's page runs in a browser: it reads the logs over HTTP like any client.
  explorer: ['registry', 'verify', 'monitor', 'log', 'tuf', 'services', 'server', 'sign', 'image', 'cli'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The layer a path under src/ belongs to; undefined for src/index.ts and files outside src/ (assets). */
function layerOf(file: string): string | undefined {
  const rel = relative('src', file).split(sep);
  return rel.length > 1 && rel[0] !== '..' ? rel[0] : undefined;
}

test('no module imports a higher layer', () => {
  const violations: string[] = [];
  for (const file of sourceFiles('src')) {
    const from = layerOf(file);
    if (!from) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = relative('.', resolve(dirname(file), m[1]!));
      const to = layerOf(target);
      if (!to || to === from) continue;
      const fromRank = ORDER.indexOf(from);
      const toRank = ORDER.indexOf(to);
      assert.ok(fromRank >= 0, `unknown layer ${from} (add it to docs/contributing.md and this test)`);
      assert.ok(toRank >= 0, `unknown layer ${to}`);
      if (toRank > fromRank || FORBIDDEN[from]?.includes(to)) violations.push(`${file} imports ${m[1]} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the layer check sees a violation when there is one', () => {
  // Guards the regex above: a relative import from verify into services must be classified.
  assert.equal(layerOf(relative('.', resolve('src/verify', '../services/tlog/index.js'))), 'services');
  assert.ok(ORDER.indexOf('services') > ORDER.indexOf('verify'));
});

// Library layers take and return data; only cli touches the process (argv, env, stdio,
// exit, signals, TTYs). Each exception names the file and the one use it may make, and why.
const PROCESS_ALLOWED: Record<string, { use: string; why: string }[]> = {
  'src/server/keys.ts': [{ use: 'process.pid', why: 'names the temporary file a key is written to before its rename' }],
  'src/server/trust-files.ts': [{ use: 'process.pid', why: 'names the temporary file a trust file is written to before its rename' }],
  'src/server/lock.ts': [
    { use: 'process.pid', why: 'the data-directory lock records its owner' },
    { use: 'process.kill', why: "signal 0 probes whether a stale lock's owner still runs; it signals nothing" },
  ],
  'src/core/prehash.ts': [
    {
      use: 'process.env',
      why: 'KEYLESS_PREHASH selects the accelerator for the whole process (library users and tests alike), like NODE_OPTIONS; it changes speed, never a verdict',
    },
  ],
  'src/core/worker-rpc.ts': [
    { use: 'process.execArgv', why: "a worker started from the TypeScript sources inherits the parent's flags minus the tsx loader" },
    { use: 'process.pid', why: 'names the temporary file a bundled worker is written to before its rename' },
  ],
};

/** Every use of the process object in a source text, as `process.<member>` (comments ignored). */
function processUses(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const uses = [...code.matchAll(/(?<![\w.$])(?:globalThis\.)?process\s*(?:\.\s*(\w+)|\[)/g)].map((m) => `process.${m[1] ?? '[]'}`);
  if (/from\s*['"](?:node:)?process['"]|require\(\s*['"](?:node:)?process['"]\s*\)|import\(\s*['"](?:node:)?process['"]\s*\)/.test(code))
    uses.push('import process');
  return uses;
}

test('library layers do not touch the process: only cli does', () => {
  const violations: string[] = [];
  const files = sourceFiles('src').filter((f) => layerOf(f) !== 'cli');
  assert.ok(files.includes(join('src', 'sign', 'index.ts')) && files.includes(join('src', 'index.ts')), 'the check covers the library');
  for (const file of files) {
    const allowed = PROCESS_ALLOWED[file.split(sep).join('/')] ?? [];
    for (const use of processUses(readFileSync(file, 'utf8'))) {
      if (!allowed.some((a) => a.use === use)) violations.push(`${file}: ${use}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the process check sees a use when there is one', () => {
  assert.deepEqual(processUses('const e = process.env.HOME;\nprocess.stderr.write("x");'), ['process.env', 'process.stderr']);
  assert.deepEqual(processUses('if (process .exitCode) process["exit"](1); globalThis.process.on("x", f);'), [
    'process.exitCode',
    'process.[]',
    'process.on',
  ]);
  assert.deepEqual(processUses("import { env } from 'node:process';"), ['import process']);
  assert.deepEqual(processUses('// process.env in a comment\n/* process.exit() */ const inProcess = 1; subprocess.x;'), []);
  assert.deepEqual(processUses("const url = 'http://x'; process.exit(1);"), ['process.exit']);
});
