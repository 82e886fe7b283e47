// The folders under src/ are layers (docs/contributing.md). A module may import only
// from its own layer or from layers listed before it; the client side (verify, sign)
// never reaches into the services, the log engine or the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';

const ORDER = ['core', 'formats', 'registry', 'merkle', 'x509', 'oidc', 'verify', 'log', 'services', 'server', 'sign', 'image', 'cli'];
const FORBIDDEN: Record<string, string[]> = { verify: ['log', 'services', 'server'], sign: ['log', 'services', 'server'], image: ['log', 'services', 'server'] };

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
