// When verification fails because the bundle comes from another Sigstore instance than
// the trusted root in use (a private `keyless serve`, staging), the first failed check is
// often a timestamp or a log entry. Say the cause instead: which of the bundle's
// authorities the root does not know, which root that is, and how to give another.
import { leafCertificateDer, type Bundle } from '../../formats/index.js';
import type { TrustMaterial } from '../../verify/index.js';

/** What of the bundle's trust material `trust` does not know (empty when everything is known). */
export function unknownAuthorities(bundle: Bundle, trust: TrustMaterial): string[] {
  const unknown: string[] = [];
  const vm = bundle.verificationMaterial;
  const der = leafCertificateDer(bundle);
  if (der) {
    try {
      const leaf = trust.leafCertificate(der);
      const known = trust.x509.certificateAuthorities.some((ca) => ca.certChain.some((cert) => cert.subject.equals(leaf.issuer)));
      if (!known) unknown.push(`its certificate's issuer (${leaf.issuer.toString()})`);
    } catch {
      // an unparsable certificate is reported by the check itself
    }
  }
  for (const [i, e] of (vm?.tlogEntries ?? []).entries()) {
    const id = e.logId?.keyId;
    if (id && trust.tlogsById(id).length === 0)
      unknown.push(`the log of its entry ${i} (log ID ${Buffer.from(id).toString('hex').slice(0, 16)}…)`);
  }
  return unknown;
}
