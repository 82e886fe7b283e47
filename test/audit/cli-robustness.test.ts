// @integration: starts servers or processes (scripts/run-tests.mjs --unit leaves it out)
// bin/keyless verify-bundle on odd inputs: one clean line and exit 2, an input error (never a stack trace,
// a signal or 124-127), for encodings, file kinds and shapes bad-input.test.ts leaves out.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER, ensureBuilt, runKeyless } from '../conformance/helpers.js';

const A_TXT = join(CONFORMANCE_DIR, 'a.txt');
const HAPPY = readFileSync(join(CONFORMANCE_DIR, 'happy-path-v0.3', 'bundle.sigstore.json'), 'utf8');
let dir: string;

function fails(bundle: string, extra: string[] = [], artifact = A_TXT): void {
  const r = runKeyless(
    [
      'verify-bundle',
      '--bundle',
      bundle,
      '--certificate-identity',
      DEFAULT_IDENTITY,
      '--certificate-oidc-issuer',
      DEFAULT_ISSUER,
      ...extra,
      artifact,
    ],
    dir,
  );
  assert.equal(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at |TypeError|RangeError|internal error/);
}

function write(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('verify-bundle robustness', () => {
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'keyless-audit-'));
  });

  it('UTF-8 BOM, UTF-16 and NUL bytes', () => {
    fails(write('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(HAPPY)])));
    fails(write('u16.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HAPPY, 'utf16le')])));
    fails(write('nul.json', HAPPY.replace('"SHA2_256"', '"SHA2_256\\u0000"')));
  });

  it('a directory or a FIFO as bundle, a directory as artifact', () => {
    fails(dir);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    fails(fifo);
    fails(write('ok.json', HAPPY), [], dir);
  });

  it('__proto__ keys are unknown fields, not prototypes', () => {
    fails(write('proto.json', `{"__proto__": {"polluted": 1}, ${HAPPY.trim().slice(1)}`));
    assert.equal(({} as { polluted?: number }).polluted, undefined);
  });

  it('2,000 log entries and 5,000 timestamps are refused quickly by the limits', () => {
    const b = JSON.parse(HAPPY);
    const e = b.verificationMaterial.tlogEntries[0];
    b.verificationMaterial.tlogEntries = Array.from({ length: 2000 }, (_, i) => ({ ...e, logIndex: String(Number(e.logIndex) + i) }));
    fails(write('entries.json', JSON.stringify(b)));
    const t = JSON.parse(HAPPY);
    t.verificationMaterial.timestampVerificationData = {
      rfc3161Timestamps: Array.from({ length: 5000 }, () => ({ signedTimestamp: 'MAA=' })),
    };
    fails(write('stamps.json', JSON.stringify(t)));
  });

  it('numbers too large for 64 bits and floats where int64 strings belong', () => {
    const b = JSON.parse(HAPPY);
    b.verificationMaterial.tlogEntries[0].integratedTime = '99999999999999999999';
    fails(write('bigtime.json', JSON.stringify(b)));
    const c = JSON.parse(HAPPY);
    c.verificationMaterial.tlogEntries[0].logIndex = 1e300;
    fails(write('float.json', JSON.stringify(c)));
  });
});
