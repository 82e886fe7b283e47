// Runs test/**/*.test.ts with node:test (Node 20's --test takes no globs, so the files are
// listed here). A file whose first line is `// @integration…` starts servers, processes or a
// browser; `--unit` leaves those out for feedback in seconds, `--integration` runs only them.
// `--coverage` adds Node's built-in coverage report. Other arguments filter by path substring.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

// On Node 20 this bounds each test file as well as each test: a hung server must not stall
// CI, while a whole file on a loaded machine may legitimately take minutes.
const TEST_TIMEOUT_MS = 600_000;

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}
const isIntegration = (file) => readFileSync(file, 'utf8').startsWith('// @integration');

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const filters = args.filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (!['--unit', '--integration', '--coverage'].includes(f)) {
    console.error(`unknown option ${f} (known: --unit, --integration, --coverage)`);
    process.exit(2);
  }
}
let files = find('test').filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (flags.has('--unit')) files = files.filter((f) => !isIntegration(f));
if (flags.has('--integration')) files = files.filter(isIntegration);
files.sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const coverage = flags.has('--coverage') ? ['--experimental-test-coverage', '--import', './scripts/coverage-in-process.mjs'] : [];
const scratch = mkdtempSync(join(tmpdir(), 'keyless-run-tests-'));
const summary = join(scratch, 'not-started.json');
const run = (list) =>
  spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=3',
      `--test-timeout=${TEST_TIMEOUT_MS}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/not-started-reporter.mjs',
      `--test-reporter-destination=${summary}`,
      ...coverage,
      ...list,
    ],
    { stdio: 'inherit' },
  );
let result = run(files);
if (result.status !== 0) {
  // Only when nothing failed but files that never started a test (scripts/not-started-reporter.mjs).
  let outcome;
  try {
    outcome = JSON.parse(readFileSync(summary, 'utf8'));
  } catch {
    outcome = undefined;
  }
  if (outcome && outcome.otherFailures === 0 && outcome.notStarted.length > 0) {
    console.error(
      `\n${outcome.notStarted.join(', ')}: failed before any of its tests started (a Node 20 test process has been seen to hang while tsx loads the file); running ${outcome.notStarted.length === 1 ? 'it' : 'them'} once more\n`,
    );
    result = run(outcome.notStarted);
  }
}
rmSync(scratch, { recursive: true, force: true });
process.exit(result.status ?? 1);
