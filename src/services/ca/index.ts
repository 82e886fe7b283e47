export { caService, CertificateAuthority, IssuedCertificate, type CaServiceOptions } from './plugin.js';
export { httpCtSubmitter, inProcessCtSubmitter, type CtSubmitter } from './ct.js';
export {
  parseSigningCertRequest,
  parseLegacySigningCertRequest,
  parseCsr,
  checkProofOfPossession,
  type SigningCertRequest,
} from './request.js';
