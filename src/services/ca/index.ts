export { caService, CertificateAuthority, type CaServiceOptions, type IssuedCertificate } from './plugin.js';
export { httpCtSubmitter, inProcessCtSubmitter, type CtSubmitter } from './ct.js';
export { parseSigningCertRequest, parseCsr, checkProofOfPossession, type SigningCertRequest } from './request.js';
