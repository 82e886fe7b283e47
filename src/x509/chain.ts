// Certificate path validation against trusted CA chains at a given time.
// Only trusted certificates form the path: a bundle's own intermediates are never
// needed, so the work is bounded by the trusted root, whatever the input holds.
import { VerificationError } from '../core/errors.js';
import type { X509ErrorCode } from '../core/error-codes.js';
import type { Certificate } from './certificate.js';
import { OID } from './oids.js';
import { periodContains, type TrustedCertificateAuthority } from './trust.js';

export interface ChainOptions {
  /** EKU the leaf must carry when it has an EKU extension (default codeSigning). */
  extendedKeyUsage?: string;
}

export interface VerifiedChain {
  /** Leaf first, trust anchor last. */
  path: Certificate[];
  authority: TrustedCertificateAuthority;
}

const ANY_EKU = '2.5.29.37.0';

/** Extensions whose criticality we understand; any other critical extension fails the path. */
const HANDLED_EXTENSIONS = new Set<string>([
  OID.keyUsage,
  OID.extKeyUsage,
  OID.basicConstraints,
  OID.subjectAltName,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  '2.5.29.32', // certificate policies
]);

const fail = (code: X509ErrorCode, message: string, details: { expected?: unknown; actual?: unknown } = {}) =>
  new VerificationError(code, message, { check: 'certificate-chain', ...details });

function checkCriticalExtensions(cert: Certificate, role: string): void {
  for (const e of cert.extensions) {
    if (e.critical && !HANDLED_EXTENSIONS.has(e.oid)) {
      throw fail('CERTIFICATE_UNHANDLED_CRITICAL_EXTENSION', `${role} certificate has an unhandled critical extension ${e.oid}`, {
        actual: e.oid,
      });
    }
  }
}

function checkValidity(cert: Certificate, role: string, at: Date): void {
  if (!cert.validAt(at)) {
    const early = at.getTime() < cert.notBefore.getTime();
    throw fail(early ? 'CERTIFICATE_NOT_YET_VALID' : 'CERTIFICATE_EXPIRED', `${role} certificate is not valid at ${at.toISOString()}`, {
      expected: `${cert.notBefore.toISOString()} .. ${cert.notAfter.toISOString()}`,
      actual: at.toISOString(),
    });
  }
}

/** Could `candidate` be the issuer of `child`? (name, and key identifiers when both exist) */
function mayIssue(candidate: Certificate, child: Certificate): boolean {
  if (!candidate.subject.equals(child.issuer)) return false;
  const aki = child.authorityKeyIdentifier;
  const ski = candidate.subjectKeyIdentifier;
  return !aki || !ski || aki.equals(ski);
}

/**
 * Validates an already-built path (leaf first, trust anchor last) at time `at`:
 * validity windows, CA flags, key usage, path length, leaf EKU and every signature
 * between neighbours (the anchor's own signature is not checked: it is trusted).
 */
export function validateCertificatePath(path: readonly Certificate[], at: Date, eku: string = OID.codeSigning): void {
  const leaf = path[0]!;
  checkValidity(leaf, 'leaf', at);
  checkCriticalExtensions(leaf, 'leaf');
  if (leaf.isCA) throw fail('CERTIFICATE_LEAF_IS_CA', 'leaf certificate is a CA certificate');
  const ekus = leaf.extKeyUsage;
  if (ekus && !ekus.includes(eku) && !ekus.includes(ANY_EKU)) {
    throw fail('CERTIFICATE_EKU_MISSING', `leaf certificate lacks extended key usage ${eku}`, { expected: eku, actual: ekus });
  }
  const ku = leaf.keyUsage;
  if (ku && !ku.includes('digitalSignature')) {
    throw fail('CERTIFICATE_KEY_USAGE', 'leaf certificate lacks the digitalSignature key usage', {
      expected: 'digitalSignature',
      actual: ku,
    });
  }
  for (let k = 1; k < path.length; k++) {
    const ca = path[k]!;
    const role = k === path.length - 1 ? 'root' : 'intermediate';
    checkValidity(ca, role, at);
    checkCriticalExtensions(ca, role);
    const bc = ca.basicConstraints;
    if (!bc?.ca) throw fail('CERTIFICATE_NOT_CA', `${role} certificate ${ca.subject} is not a CA`);
    // A CA that restricts its EKUs must allow the leaf's purpose (as Go's x509 and OpenSSL check).
    const caEkus = ca.extKeyUsage;
    if (caEkus && !caEkus.includes(eku) && !caEkus.includes(ANY_EKU)) {
      throw fail('CERTIFICATE_EKU_MISSING', `${role} certificate ${ca.subject} does not allow extended key usage ${eku}`, {
        expected: eku,
        actual: caEkus,
      });
    }
    const caKu = ca.keyUsage;
    if (caKu && !caKu.includes('keyCertSign')) {
      throw fail('CERTIFICATE_KEY_USAGE', `${role} certificate ${ca.subject} lacks keyCertSign`, { expected: 'keyCertSign', actual: caKu });
    }
    // CAs strictly between this one and the leaf (self-issued ones do not count).
    if (bc.pathLen !== undefined) {
      let below = 0;
      for (let j = 1; j < k; j++) if (!path[j]!.subject.equals(path[j]!.issuer)) below++;
      if (below > bc.pathLen) {
        throw fail('CERTIFICATE_PATH_LENGTH', `${role} certificate ${ca.subject} allows ${bc.pathLen} CAs below it`, {
          expected: bc.pathLen,
          actual: below,
        });
      }
    }
    if (!path[k - 1]!.verifySignedBy(ca)) {
      throw fail('CERTIFICATE_SIGNATURE_INVALID', `${path[k - 1]!.subject} is not signed by ${ca.subject}`);
    }
  }
}

/**
 * Finds a trusted CA chain (valid at `at`) that issued `leaf` and validates the path
 * leaf → … → anchor at time `at`: signatures, validity windows (inclusive), CA flags,
 * key usage, path length, leaf EKU. Throws a VerificationError naming the failed check;
 * when several authorities were tried, the most specific failure is reported.
 */
export function verifyCertificateChain(
  leaf: Certificate,
  authorities: readonly TrustedCertificateAuthority[],
  at: Date,
  options: ChainOptions = {},
): VerifiedChain {
  const eku = options.extendedKeyUsage ?? OID.codeSigning;
  let best: VerificationError | undefined;
  let sawAuthorityInWindow = false;
  for (const authority of authorities) {
    if (!periodContains(authority.validFor, at)) continue;
    sawAuthorityInWindow = true;
    const chain = authority.certChain;
    for (let i = 0; i < chain.length; i++) {
      const issuer = chain[i]!;
      if (!mayIssue(issuer, leaf)) continue;
      if (!leaf.verifySignedBy(issuer)) {
        best ??= fail('CERTIFICATE_SIGNATURE_INVALID', `leaf signature does not verify with ${issuer.subject}`);
        continue;
      }
      const path = [leaf, ...chain.slice(i)];
      try {
        validateCertificatePath(path, at, eku);
        return { path, authority };
      } catch (e) {
        if (!(e instanceof VerificationError)) throw e;
        best = e;
      }
    }
  }
  if (best) throw best;
  if (!sawAuthorityInWindow) {
    throw fail('CERTIFICATE_AUTHORITY_NOT_VALID', `no trusted certificate authority is valid at ${at.toISOString()}`, {
      actual: at.toISOString(),
    });
  }
  throw fail('CERTIFICATE_CHAIN_UNTRUSTED', `no trusted certificate authority issued the certificate (issuer ${leaf.issuer})`, {
    actual: leaf.issuer.toString(),
  });
}

/** Chain failures that depend on the verification time rather than on the certificates. */
const CHAIN_TIME_CODES: ReadonlySet<X509ErrorCode> = new Set<X509ErrorCode>([
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_NOT_YET_VALID',
  'CERTIFICATE_AUTHORITY_NOT_VALID',
]);

/**
 * Why verifyCertificateChain failed, for callers that report it in their own terms:
 * `time` (not valid at that time), `untrusted` (no trusted CA issued it) or `invalid`.
 */
export function chainFailureKind(e: unknown): 'time' | 'untrusted' | 'invalid' {
  if (!(e instanceof VerificationError)) return 'invalid';
  if (CHAIN_TIME_CODES.has(e.code as X509ErrorCode)) return 'time';
  return e.code === 'CERTIFICATE_CHAIN_UNTRUSTED' ? 'untrusted' : 'invalid';
}
