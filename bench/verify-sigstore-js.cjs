// sigstore-js's equivalent of `keyless verify-bundle`: one process that loads the
// bundle, the trusted root and the artifact from files and verifies with @sigstore/verify.
// Usage: node bench/verify-sigstore-js.cjs BUNDLE TRUSTED_ROOT ARTIFACT IDENTITY ISSUER
const { readFileSync } = require('node:fs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const [bundlePath, rootPath, artifactPath, identity, issuer] = process.argv.slice(2);
const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, 'utf8'))));
const entity = toSignedEntity(bundleFromJSON(JSON.parse(readFileSync(bundlePath, 'utf8'))), readFileSync(artifactPath));
new Verifier(trust).verify(entity, { subjectAlternativeName: identity, extensions: { issuer } });
