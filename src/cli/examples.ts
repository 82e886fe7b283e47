// One worked example at the end of every command's -h, kept in one place so that the
// examples read as one consistent tutorial (same file names, same identities).
import type { Command } from 'commander';

const GH_ID = 'https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/heads/main';
const GH_ISSUER = 'https://token.actions.githubusercontent.com';

export const EXAMPLES: Readonly<Record<string, string>> = {
  'verify-blob': `keyless verify-blob release.tar.gz --bundle release.tar.gz.sigstore.json \\
    --certificate-identity ${GH_ID} --certificate-oidc-issuer ${GH_ISSUER}
  cat release.tar.gz | keyless verify-blob - --bundle release.tar.gz.sigstore.json --key key.pub
  keyless verify-blob dist/* --bundle-dir bundles/ --certificate-identity ${GH_ID} --certificate-oidc-issuer ${GH_ISSUER}`,
  'verify-blob-attestation': `keyless verify-blob-attestation release.tar.gz --bundle att.sigstore.json --type slsaprovenance1 \\
    --certificate-identity-regexp 'https://github\\.com/OWNER/.*' --certificate-oidc-issuer ${GH_ISSUER} --json
  keyless verify-blob-attestation --digest <64 hex> --digestAlg sha256 --bundle att.sigstore.json \\
    --certificate-identity ${GH_ID} --certificate-oidc-issuer ${GH_ISSUER}`,
  'verify-bundle': `keyless verify-bundle --bundle b.sigstore.json --certificate-identity alice@example.com \\
    --certificate-oidc-issuer https://accounts.example.com --trusted-root trusted_root.json sha256:<64 hex>`,
  'sign-blob': `keyless sign-blob release.tar.gz --bundle release.tar.gz.sigstore.json
  keyless sign-blob dist/* --output-dir bundles/ --signing-config keyless-data/signing_config.json`,
  'attest-blob': 'keyless attest-blob release.tar.gz --predicate provenance.json --type slsaprovenance1 --bundle att.sigstore.json',
  'generate-key-pair': `COSIGN_PASSWORD='…' keyless generate-key-pair --output-key-prefix release   # release.key, release.pub
  keyless sign-blob release.tar.gz --key release.key --bundle release.tar.gz.sigstore.json`,
  'sign-bundle': 'keyless sign-bundle --identity-token "$TOKEN" --bundle out.sigstore.json a.txt',
  token: 'keyless token inspect "$SIGSTORE_ID_TOKEN"',
  'token inspect': 'keyless token inspect "$TOKEN" --json',
  'signing-config':
    'keyless signing-config create --fulcio url=https://fulcio.example.com,api-version=1 --rekor url=https://rekor.example.com,api-version=2 --output-file sc.json',
  'signing-config create':
    'keyless signing-config create --fulcio url=https://fulcio.example.com,api-version=1 --rekor url=https://rekor.example.com,api-version=2 --output-file sc.json',
  'trusted-root':
    'keyless trusted-root create --fulcio url=https://fulcio.example.com,certificate-chain=ca.pem --rekor url=https://rekor.example.com,public-key=rekor.pub --out tr.json',
  'trusted-root create':
    'keyless trusted-root create --fulcio url=https://fulcio.example.com,certificate-chain=ca.pem --rekor url=https://rekor.example.com,public-key=rekor.pub --out tr.json',
  serve:
    'keyless serve --data-dir keyless-data --port 3000     # then: keyless dev-token --url http://127.0.0.1:3000 --email alice@example.com',
  'dev-token': 'TOKEN=$(keyless dev-token --url http://127.0.0.1:3000 --email alice@example.com)',
};

function each(cmd: Command, path: string[], visit: (c: Command, path: string) => void): void {
  for (const c of cmd.commands) {
    if (c.name() === 'help') continue;
    const p = [...path, c.name()];
    visit(c, p.join(' '));
    each(c, p, visit);
  }
}

/** Appends `Example:` to the help of every command that has one here (commands that bring their own keep it). */
export function addExamples(program: Command): void {
  program.addHelpText(
    'after',
    '\nExample:\n  keyless verify-blob FILE --bundle FILE.sigstore.json --certificate-identity ID --certificate-oidc-issuer URL',
  );
  each(program, [], (c, path) => {
    const example = EXAMPLES[path];
    if (example) c.addHelpText('after', `\nExample:\n  ${example}`);
  });
}
