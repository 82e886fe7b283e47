// Shared helpers for the audit tests: conformance bundles to mutate and a verify wrapper.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { verifySync } from '../../src/verify/index.js';
import { CONFORMANCE_DIR } from '../support/conformance.js';

export const CONFORMANCE = CONFORMANCE_DIR;
export const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const ISSUER = 'https://token.actions.githubusercontent.com';
export const PRODUCTION_ROOT = JSON.parse(readFileSync(join(CONFORMANCE, 'trusted_root.production.json'), 'utf8'));

export interface Case {
  bundle: any;
  trustedRoot: any;
  artifact: Buffer;
}

/** A fresh (mutable) copy of a conformance case. */
export function loadCase(name: string): Case {
  const dir = join(CONFORMANCE, name);
  const tr = join(dir, 'trusted_root.json');
  return {
    bundle: JSON.parse(readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8')),
    trustedRoot: existsSync(tr) ? JSON.parse(readFileSync(tr, 'utf8')) : structuredClone(PRODUCTION_ROOT),
    artifact: readFileSync(existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(CONFORMANCE, 'a.txt')),
  };
}

/** Verifies a keyless case with the default conformance identity; returns the error code, or 'OK'. */
export function outcome(
  c: Case,
  policy: Record<string, unknown> = { certificateIdentity: IDENTITY, certificateOidcIssuer: ISSUER },
): string {
  try {
    verifySync(c.bundle, c.artifact, policy as never, c.trustedRoot);
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? `INTERNAL ${(e as Error).message}`;
  }
}
