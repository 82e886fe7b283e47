// Where the Sigstore conformance cases are: they reach the project through ../shared/
// beside the checkout (never committed here). KEYLESS_CONFORMANCE_DIR overrides. A test
// that needs them fails loudly when they are missing; it is never skipped.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function locate(): string {
  const candidates = [process.env.KEYLESS_CONFORMANCE_DIR, join(REPO_ROOT, '..', 'shared', 'conformance')].filter(
    (c): c is string => typeof c === 'string' && c.length > 0,
  );
  for (const c of candidates) if (existsSync(join(c, 'trusted_root.production.json'))) return resolve(c);
  throw new Error(
    `Sigstore conformance cases not found (looked in ${candidates.join(', ')}). ` +
      'Get them from the sigstore-conformance repository (github.com/sigstore/sigstore-conformance, test/assets/bundle-verify, ' +
      'plus its trusted_root.production.json) and point KEYLESS_CONFORMANCE_DIR at that folder, ' +
      'or place it at ../shared/conformance beside the checkout',
  );
}

export const CONFORMANCE_DIR = locate();
