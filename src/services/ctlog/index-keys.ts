// The CT log's search keys, derived from the MerkleTreeLeaf alone: the same function
// indexes each append and re-indexes a log stored before the keys existed
// (`OpenLogOptions.index`), so both give exactly the same index.
import { sha256 } from '../../core/hash.js';
import { certificateFromTbs, parseCertificate, parseMerkleTreeLeaf } from '../../x509/index.js';
import { emailIndexKey, hashIndexKey, issuerIndexKey, uriIndexKey } from '../tlog/keys.js';

/** Bump when `ctIndexKeys` changes: stored CT logs of an older version are re-indexed on start. */
export const CT_INDEX_VERSION = 1;

/**
 * Keys of one CT entry: its e-mail and URI SANs, its OIDC issuer, and `sha256:` of what
 * the leaf logs — the certificate's DER for an x509 entry (its usual fingerprint), the
 * TBSCertificate for a precertificate entry (the precertificate without its poison
 * extension, which is also the issued certificate's TBS without its SCT list; the
 * precertificate's own DER is not in the log). A leaf that cannot be read has none.
 */
export function ctIndexKeys(leaf: Uint8Array): string[] {
  try {
    const { entry } = parseMerkleTreeLeaf(leaf);
    const logged = entry.type === 'x509' ? entry.certificate : entry.tbs;
    const cert = entry.type === 'x509' ? parseCertificate(entry.certificate) : certificateFromTbs(entry.tbs);
    const keys = new Set<string>([hashIndexKey('sha256', sha256(logged).toString('hex'))]);
    for (const san of cert.subjectAltNames) {
      if (san.type === 'email') keys.add(emailIndexKey(san.value as string));
      else if (san.type === 'uri') keys.add(uriIndexKey(san.value as string));
    }
    const issuer = cert.oidcIssuer;
    if (issuer) keys.add(issuerIndexKey(issuer));
    return [...keys];
  } catch {
    return [];
  }
}
