export { rekorV1Service, type RekorV1ServiceOptions } from './v1.js';
export { rekorV2Service, type RekorV2ServiceOptions } from './v2.js';
export { RekorV1Log, RekorV2Log, transparencyLogEntryFromV1, type RekorLogOptions, type RekorLogInfo } from './logs.js';
export { WorkerDigestVerifier, inlineDigestVerifier, type DigestVerifier } from './verify-pool.js';
export { admitV1, admitV2, type AdmittedEntry } from './admit.js';
export { emailIndexKey, hashIndexKey, issuerIndexKey, uriIndexKey, publicKeyIndexKey } from './keys.js';
