// Every field of real bundles replaced by other JSON values, deleted, or with one
// character changed: verification must end in a coded KeylessError (never a TypeError or
// a crash), and the only changes that still verify are the ones no check depends on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifySync } from '../../src/verify/index.js';
import { isKeylessError } from '../../src/core/errors.js';
import { CONFORMANCE_DIR, DEFAULT_IDENTITY, DEFAULT_ISSUER } from '../conformance/helpers.js';

const policy = { certificateIdentity: DEFAULT_IDENTITY, certificateOidcIssuer: DEFAULT_ISSUER };
const artifact = readFileSync(join(CONFORMANCE_DIR, 'a.txt'));
const json = (p: string) => JSON.parse(readFileSync(join(CONFORMANCE_DIR, p), 'utf8'));

type Path = (string | number)[];
function paths(o: unknown, p: Path = [], out: Path[] = []): Path[] {
  if (p.length > 0) out.push(p);
  if (o && typeof o === 'object')
    for (const k of Object.keys(o)) paths((o as Record<string, unknown>)[k], [...p, Array.isArray(o) ? Number(k) : k], out);
  return out;
}

const REPLACEMENTS: unknown[] = [
  null,
  0,
  -1,
  1e300,
  '',
  'AAAA',
  [],
  {},
  true,
  '-5',
  '18446744073709551616',
  Buffer.from('garbage der').toString('base64'),
];

/**
 * Changes that no check depends on: an untrusted part of the token, a v0.1 proof (the SET
 * suffices), in rekor2-dsse-happy-path the middle of the checkpoint, which is a witness
 * cosignature line (unknown witness keys are ignored by design), and in the Rekor v1
 * checkpoints the middle falls in the signer's key name, which v1 verifiers (rekor,
 * sigstore-go) do not check: the key hint and the signature decide.
 */
const HARMLESS = [
  /rfc3161Timestamps\.0\.signedTimestamp:flip/,
  /^(rekor2-dsse-happy-path|happy-path-v0\.3|happy-path-intoto-in-dsse-v3) .*checkpoint\.envelope:flip$/,
  /^happy-path-v0\.1 .*inclusionProof(\.|:)/,
  /dsseEnvelope\.signatures\.0\.keyid/,
  /publicKey\.hint/,
];

describe('mutated bundles', () => {
  for (const [name, root] of [
    ['happy-path-v0.3', undefined],
    ['happy-path-v0.1', undefined],
    ['happy-path-intoto-in-dsse-v3', undefined],
    ['rekor2-happy-path', json('rekor2-happy-path/trusted_root.json')],
    ['rekor2-dsse-happy-path', json('rekor2-dsse-happy-path/trusted_root.json')],
  ] as const) {
    it(name, () => {
      const base = json(`${name}/bundle.sigstore.json`);
      const stillValid: string[] = [];
      for (const p of paths(base)) {
        const variants: [string, (o: Record<string | number, unknown>, k: string | number) => void][] = [
          ['delete', (o, k) => delete o[k]],
          [
            'flip',
            (o, k) => {
              const s = o[k];
              if (typeof s === 'string' && s.length > 8) {
                const j = Math.floor(s.length / 2);
                o[k] = s.slice(0, j) + (s[j] === 'A' ? 'B' : 'A') + s.slice(j + 1);
              }
            },
          ],
          ...REPLACEMENTS.map((v, i): [string, (o: Record<string | number, unknown>, k: string | number) => void] => [
            `replace${i}`,
            (o, k) => (o[k] = v),
          ]),
        ];
        for (const [label, mutate] of variants) {
          const b = structuredClone(base);
          let o = b;
          for (const k of p.slice(0, -1)) o = o[k];
          const before = JSON.stringify(b);
          mutate(o, p[p.length - 1]!);
          if (JSON.stringify(b) === before) continue;
          try {
            verifySync(JSON.stringify(b), artifact, policy, root);
            stillValid.push(`${name} ${p.join('.')}:${label}`);
          } catch (e) {
            assert.ok(isKeylessError(e), `${p.join('.')} ${label}: ${(e as Error).stack}`);
            assert.match((e as { code: string }).code, /^[A-Z_]+$/);
          }
        }
      }
      const unexpected = stillValid.filter((s) => !HARMLESS.some((re) => re.test(s)));
      assert.deepEqual(unexpected, []);
    });
  }
});
