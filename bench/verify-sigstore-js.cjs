// sigstore-js's equivalent of `keyless verify-bundle`: one process that loads the
// bundle, the trusted root and the artifact from files and verifies with @sigstore/verify.
// Usage: node bench/verify-sigstore-js.cjs BUNDLE TRUSTED_ROOT ARTIFACT IDENTITY ISSUER
// Many files in one process (bench/verify-many.ts), one verdict line each:
//        node bench/verify-sigstore-js.cjs --manifest MANIFEST TRUSTED_ROOT IDENTITY ISSUER
//        (MANIFEST: one "ARTIFACT BUNDLE" per line, absolute paths; a file it refuses is a FAILED line)
const { readFileSync } = require('node:fs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const many = process.argv[2] === '--manifest';
const [bundlePath, rootPath, artifactPath, identity, issuer] = many
  ? [undefined, process.argv[4], undefined, process.argv[5], process.argv[6]]
  : process.argv.slice(2);
const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, 'utf8')))));
const policy = { subjectAlternativeName: identity, extensions: { issuer } };
const verifyOne = (bundle, artifact) =>
  verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(readFileSync(bundle, 'utf8'))), readFileSync(artifact)), policy);

if (!many) verifyOne(bundlePath, artifactPath);
else {
  const out = [];
  for (const line of readFileSync(process.argv[3], 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const [artifact, bundle] = line.trim().split(/\s+/);
    // A refusal is that file's verdict, not the end of the run: @sigstore/core re-encodes a
    // timestamp's signed attributes and TSTInfo before checking them, and its parser reads
    // an OCTET STRING's bytes as nested DER whenever they happen to parse; a random digest
    // that parses with a long-form length (about 5 in a million) comes back one byte short
    // (cosign and Keyless verify those bundles).
    try {
      verifyOne(bundle, artifact);
      out.push(`${artifact}: Verified OK\n`);
    } catch (e) {
      out.push(`${artifact}: FAILED: ${e.code ?? ''} ${String(e.message).replace(/\s+/g, ' ')}\n`);
    }
  }
  process.stdout.write(out.join(''));
}
