// The offline verifier: `verify(bundle, artifact, policy, trustedRoot?)`.
import { KeylessError, VerificationError } from '../core/errors.js';
import { leafCertificateDer, parseBundle, type Bundle } from '../formats/index.js';
import productionTrustedRoot from '../../assets/trusted_root.production.json' with { type: 'json' };
import { Artifact, type ArtifactInput } from './artifact.js';
import { CheckLog } from './checks.js';
import { compilePolicy, type VerificationPolicy } from './policy.js';
import { runPipeline, startPipeline, type VerificationResult } from './pipeline.js';
import type { Certificate } from '../x509/index.js';
import { trustMaterialFor, type TrustMaterial } from './trust.js';

export { VerifyCode, CheckLog, display, errorRecord, type CheckResult, type ErrorRecord } from './checks.js';
export { EXTENSION_POLICY_OIDS, compilePolicy, type VerificationPolicy, type ExtensionPolicyName } from './policy.js';
export { Artifact, type ArtifactInput } from './artifact.js';
export { re2ToJavaScript } from './re2.js';
export { trustMaterialFor, TrustMaterial } from './trust.js';
export type { VerificationResult, VerifiedTime } from './pipeline.js';

/** The Sigstore public-good production trusted root, built into the package. */
export const PRODUCTION_TRUSTED_ROOT: unknown = productionTrustedRoot;

/** Anything `verify` accepts as a bundle: its JSON text or bytes, the parsed JSON value, or a parsed Bundle. */
export type BundleInput = string | Uint8Array | object;

export interface VerifyOptions {
  /** Receives every check, also when verification fails (for `--json` reports). */
  log?: CheckLog;
  /**
   * Reuse certificate and checkpoint checks from earlier bundles with the same trusted
   * root (default true: a batch signed with one certificate verifies much faster).
   */
  memoizeBundles?: boolean;
  /** Accept an X.509 chain in a v0.3 bundle (cosign's `--allow-certificate-chain`). */
  allowCertificateChain?: boolean;
}

function bundleFrom(input: BundleInput, options: VerifyOptions = {}): Bundle {
  const parse = { allowCertificateChain: options.allowCertificateChain };
  if (typeof input === 'string' || input instanceof Uint8Array) return parseBundle(input, parse);
  return isParsedBundle(input) ? input : parseBundle(input, parse);
}

/** A Bundle from parseBundle (its bytes are Buffers, which JSON input cannot fake); anything else is validated. */
function isParsedBundle(v: object): v is Bundle {
  const c = (v as { content?: { $case?: unknown; messageSignature?: { signature?: unknown }; dsseEnvelope?: { payload?: unknown } } })
    .content;
  if (typeof c !== 'object' || c === null) return false;
  if (c.$case === 'messageSignature') return c.messageSignature?.signature instanceof Uint8Array;
  if (c.$case === 'dsseEnvelope') return c.dsseEnvelope?.payload instanceof Uint8Array;
  return false;
}

/** What both entry points do before the pipeline: policy, trust material, bundle, artifact. */
function prepare(
  bundle: BundleInput,
  artifact: ArtifactInput | undefined,
  policy: VerificationPolicy,
  trustedRoot: unknown,
  log: CheckLog,
  options: VerifyOptions,
) {
  const compiled = compilePolicy(policy);
  const shared = trustMaterialFor(trustedRoot ?? productionTrustedRoot);
  const trust: TrustMaterial = options.memoizeBundles === false ? shared.withoutBundleMemo() : shared;
  log.pass('trusted-root', undefined, trustedRoot === undefined ? 'built-in production root' : 'given root');
  let parsed: Bundle;
  try {
    parsed = bundleFrom(bundle, options);
  } catch (e) {
    log.record('bundle.format', e);
    throw e;
  }
  // checkClaims false: the artifact is not looked at, as cosign ignores it then.
  if (policy.checkClaims === false) return { compiled, trust, parsed, a: undefined };
  if (artifact === undefined)
    throw new KeylessError('ARTIFACT_INVALID', 'an artifact (or its digest) is needed unless the policy sets checkClaims false', {
      check: 'artifact',
    });
  return { compiled, trust, parsed, a: Artifact.from(artifact) };
}

/**
 * Verifies a bundle synchronously. Throws a FormatError for malformed input, a
 * KeylessError with code POLICY_INVALID for an unusable policy, and a VerificationError
 * whose `code` and `check` name the failed step otherwise.
 */
export function verifySync(
  bundle: BundleInput,
  artifact: ArtifactInput | undefined,
  policy: VerificationPolicy,
  trustedRoot?: unknown,
  options: VerifyOptions = {},
): VerificationResult {
  const log = options.log ?? new CheckLog();
  const { compiled, trust, parsed, a } = prepare(bundle, artifact, policy, trustedRoot, log, options);
  return runPipeline(parsed, a, compiled, trust, log);
}

/**
 * Verifies a Sigstore bundle offline against `policy` (expected identity and issuer, or a
 * managed public key) and a trusted root (default: the public-good production root).
 * Resolves with the verified identity, issuer and signing time; rejects with an error
 * carrying a stable `code` (and `check`, `expected`, `actual`).
 */
export async function verify(
  bundle: BundleInput,
  artifact: ArtifactInput | undefined,
  policy: VerificationPolicy,
  trustedRoot?: unknown,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const log = options.log ?? new CheckLog();
  const { compiled, trust, parsed, a } = prepare(bundle, artifact, policy, trustedRoot, log, options);
  const leaf = leafOf(parsed, trust);
  // The leaf's signature (P-384 for the public instance, the costliest check) runs in the
  // thread pool while the main thread checks times, log entries and the signature; the
  // chain check in finish() then finds it verified.
  const pending = leaf ? prefetchLeafSignature(leaf, trust) : undefined;
  let run;
  try {
    run = startPipeline(parsed, a, compiled, trust, log, leaf);
  } finally {
    if (pending) await pending;
  }
  return run.finish();
}

type AsyncVerifiable = Certificate & { verifySignedByAsync?: (issuer: Certificate) => Promise<boolean> };

function leafOf(b: Bundle, trust: TrustMaterial): Certificate | undefined {
  const der = leafCertificateDer(b);
  if (!der) return undefined;
  try {
    return trust.leafCertificate(der);
  } catch {
    return undefined; // the pipeline reports it
  }
}

/** Starts the leaf-signature check against the trusted CA certificates that may have issued it. */
async function prefetchLeafSignature(leaf: AsyncVerifiable, trust: TrustMaterial): Promise<void> {
  if (typeof leaf.verifySignedByAsync !== 'function') return;
  const aki = leaf.authorityKeyIdentifier;
  const candidates = trust.x509.certificateAuthorities
    .flatMap((ca) => ca.certChain)
    .filter((c) => {
      if (!c.subject.equals(leaf.issuer)) return false;
      const ski = c.subjectKeyIdentifier;
      return !aki || !ski || aki.equals(ski);
    });
  await Promise.all([...new Set(candidates)].map((c) => leaf.verifySignedByAsync!(c).catch(() => false)));
}

export { KeylessError, VerificationError };
export { verifyCheckpoint } from './tlog.js';
