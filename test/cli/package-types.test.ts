// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// The package as a consumer gets it: `npm pack`, the tarball installed in a temporary
// project, `import { verify } from 'keyless'` type-checked against the shipped
// declarations (a misuse must fail to type-check, so the types are not `any`) and run.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = process.cwd();
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let work: string;
let consumer: string;

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  return r;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'keyless-pack-'));
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
});

test('the build with --types writes the declarations package.json names', () => {
  const b = run(process.execPath, ['scripts/build.mjs', '--types'], ROOT);
  assert.equal(b.status, 0, b.stderr);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { types: string; exports: { '.': { types: string } } };
  assert.ok(existsSync(join(ROOT, pkg.types)), pkg.types);
  assert.ok(existsSync(join(ROOT, pkg.exports['.'].types)), pkg.exports['.'].types);
  const p = run(NPM, ['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
  assert.equal(p.status, 0, p.stderr);
});

test('the tarball installs in a fresh project', () => {
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
  const tgz = join(work, `keyless-${pkg.version}.tgz`);
  // --ignore-scripts: the native addon's node-gyp build is not what this test is about.
  const i = run(
    NPM,
    [
      'install',
      '--ignore-scripts',
      '--prefer-offline',
      tgz,
      `typescript@${pkg.devDependencies.typescript}`,
      `@types/node@${pkg.devDependencies['@types/node']}`,
    ],
    consumer,
  );
  assert.equal(i.status, 0, i.stderr);
});

test("import { verify } from 'keyless' type-checks, a misuse does not, and it runs", () => {
  writeFileSync(
    join(consumer, 'index.ts'),
    [
      "import { verify, type VerificationResult } from 'keyless';",
      "const pending: Promise<VerificationResult> = verify('{}', new Uint8Array(), { certificateIdentity: 'a', certificateOidcIssuer: 'b' });",
      'void pending.catch(() => undefined);',
      '// @ts-expect-error the policy is required',
      "void verify('{}', new Uint8Array());",
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        types: ['node'],
        skipLibCheck: false,
      },
      files: ['index.ts'],
    }),
  );
  const t = run(process.execPath, [join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], consumer);
  assert.equal(t.status, 0, t.stdout + t.stderr);
  writeFileSync(join(consumer, 'run.mjs'), "import { verify } from 'keyless';\nconsole.log(typeof verify);\n");
  const r = run(process.execPath, ['run.mjs'], consumer);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'function');
});
