import { verify, trustMaterialFor, PRODUCTION_TRUSTED_ROOT, type VerificationPolicy } from '../verify/index.js';
import type { VerifyPool } from '../verify/verify-pool.js';
import { parseStatement } from '../formats/index.js';
import { SignError } from './errors.js';
import type { SignResult } from './signer.js';
import type { KeySignResult } from './key-signer.js';

/**
 * Checks a freshly made bundle with Keyless's own verifier before it is written (as cosign
 * does): chain to the trusted root, SCT, log entries, timestamps, signature, and the
 * identity and issuer of the certificate we were given.
 */
export interface SelfVerifier {
  /** Stops the worker threads, if any. */
  close(): Promise<void>;
  /** Parses the trust material ahead of time (while the signer waits on the network). */
  warm(): void;
  /** A message bundle (its JSON text or value), against the artifact's bytes or (for streamed files) its SHA-256. */
  verify(bundle: object | string, artifact: Uint8Array | { sha256: Uint8Array }, result: SignResult | KeySignResult): Promise<void>;
  /** DSSE: the in-toto statement's first sha256 subject (or the given digest) is what is checked. */
  verifyDsse(
    bundle: object | string,
    payload: Uint8Array,
    subjectDigest: Uint8Array | undefined,
    result: SignResult | KeySignResult,
  ): Promise<void>;
}

export function createSelfVerifier(trustedRoot: unknown | undefined, options: { threads?: number } = {}): SelfVerifier {
  // The pool (and node:worker_threads with it) is loaded only when threads are asked for.
  const threads = options.threads ?? 0;
  const pool: Promise<VerifyPool> | undefined =
    threads > 0 ? import('../verify/verify-pool.js').then(({ VerifyPool }) => new VerifyPool(threads, trustedRoot)) : undefined;
  pool?.catch(() => undefined); // reported by the first verification
  const check = async (
    bundle: object | string,
    artifact: Uint8Array | { sha256: Uint8Array | string },
    result: SignResult | KeySignResult,
  ): Promise<void> => {
    const workers = pool ? await pool : undefined;
    try {
      const policy = policyFor(result);
      await (workers ? workers.verify(bundle, artifact, policy) : verify(bundle, artifact, policy, trustedRoot));
    } catch (e) {
      if (e instanceof SignError) throw e;
      const err = e as Error & { code?: string };
      throw new SignError(
        'SELF_VERIFY_FAILED',
        `the new bundle does not verify against the trusted root, so it was not written: ${err.message}`,
        { check: err.code ?? 'verify', cause: e },
      );
    }
  };
  return {
    close: async () => (await pool?.catch(() => undefined))?.close(),
    warm() {
      if (pool) return;
      try {
        trustMaterialFor(trustedRoot ?? PRODUCTION_TRUSTED_ROOT);
      } catch {
        /* reported by the real verification */
      }
    },
    async verify(bundle, artifact, result) {
      await check(bundle, artifact, result);
    },
    async verifyDsse(bundle, payload, subjectDigest, result) {
      let digest: Uint8Array | string | undefined = subjectDigest;
      if (!digest) {
        const statement = parseStatement(payload);
        digest = statement.subjects.find((s) => typeof s.digest.sha256 === 'string')?.digest.sha256;
        if (!digest)
          throw new SignError(
            'STATEMENT_NO_SHA256_SUBJECT',
            'the in-toto statement has no subject with a sha256 digest, so no verifier could match it to an artifact',
            { check: 'statement.subject' },
          );
      }
      await check(bundle, { sha256: digest }, result);
    },
  };
}

/**
 * What the new bundle must satisfy: a key-pair bundle, the key that made it; a keyless one,
 * the identity and issuer of the certificate, which must be the token's email when the
 * token has one (the CA may not swap it).
 */
function policyFor(result: SignResult | KeySignResult): VerificationPolicy {
  if ('publicKeyPem' in result) return { publicKey: result.publicKeyPem };
  const identity = result.certificate.leaf.sigstoreIdentity;
  const issuer = result.certificate.leaf.oidcIssuer;
  if (!identity || !issuer) {
    throw new SignError('CERTIFICATE_IDENTITY_MISSING', 'the CA issued a certificate without a Sigstore identity or OIDC issuer', {
      check: 'certificate',
    });
  }
  const email = result.token.email;
  if (email !== undefined && identity !== email) {
    throw new SignError('CERTIFICATE_IDENTITY_MISMATCH', `the CA certified "${identity}", but the identity token is for "${email}"`, {
      check: 'certificate.identity',
      expected: email,
      actual: identity,
    });
  }
  return { certificateIdentity: identity, certificateOidcIssuer: issuer };
}
