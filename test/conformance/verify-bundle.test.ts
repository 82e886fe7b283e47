// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// Every conformance case through the library and through `bin/keyless verify-bundle`,
// in path mode and in digest mode, exactly as the conformance suite invokes a client.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify, type VerificationPolicy } from '../../src/index.js';
import { conformanceCases, ensureBuilt, runKeyless, verifyBundleArgs, type ConformanceCase } from './helpers.js';

const cases = conformanceCases();

function policyFor(c: ConformanceCase): VerificationPolicy {
  return c.keyPath ? { publicKey: readFileSync(c.keyPath, 'utf8') } : { certificateIdentity: c.identity, certificateOidcIssuer: c.issuer };
}

describe('conformance cases through the library', () => {
  it('finds the cases', () => assert.ok(cases.length >= 40, `only ${cases.length} cases found`));
  for (const c of cases) {
    for (const mode of ['path', 'digest'] as const) {
      it(`${c.name} (${mode})`, async () => {
        const bundle = readFileSync(c.bundlePath);
        const root = c.trustedRootPath ? JSON.parse(readFileSync(c.trustedRootPath, 'utf8')) : undefined;
        const run = verify(bundle, mode === 'path' ? c.artifact : c.digest, policyFor(c), root);
        if (c.expectFailure) {
          await assert.rejects(run, (e: { code?: unknown }) => typeof e.code === 'string' && e.code.length > 0);
        } else {
          const r = await run;
          assert.ok(r.signingTime instanceof Date);
          if (!c.keyPath) assert.equal(r.identity, c.identity);
          assert.ok(r.checks.every((x) => x.ok));
        }
      });
    }
  }
});

describe('conformance cases through bin/keyless verify-bundle', () => {
  let scratch: string;
  before(() => {
    ensureBuilt();
    // The suite runs the client in a scratch directory, not the case folder.
    scratch = mkdtempSync(join(tmpdir(), 'keyless-conf-'));
  });
  for (const c of cases) {
    for (const mode of ['path', 'digest'] as const) {
      it(`${c.name} (${mode})`, () => {
        const r = runKeyless(verifyBundleArgs(c, mode), scratch);
        if (c.expectFailure) {
          // The protocol asks for non-zero: 1 when a check fails, 2 when the bundle is malformed.
          assert.ok(r.status === 1 || r.status === 2, `expected exit 1 or 2, got ${r.status}: ${r.stderr}`);
          const lines = r.stderr.trim().split('\n');
          assert.equal(lines.length, 1, `expected one line, got: ${r.stderr}`);
          assert.match(lines[0]!, /^error: /);
          assert.doesNotMatch(r.stderr, /\n\s+at /);
        } else {
          assert.equal(r.status, 0, r.stderr);
        }
      });
    }
  }
});
