/**
 * The one registry of error codes. Every `KeylessError.code` is a key of ERROR_CODES,
 * so a misspelled or unregistered code fails type-checking. Users script against these
 * codes: never rename one without listing it in docs/errors.md. HTTP statuses live at
 * the service edge (src/services/http/status.ts), not here.
 *
 * To add a code: add it here (component, one-line meaning that no other code shares),
 * give it a status in src/services/http/status.ts if a service can answer it, and run
 * `npm run docs:errors`. Naming: UPPER_SNAKE, subject first (`TLOG_SET_INVALID`); the
 * lowercase `idp` codes are OAuth 2.0's own and keep their spelling.
 */
export interface ErrorCodeInfo {
  readonly component: ErrorComponent;
  readonly meaning: string;
}

export const ERROR_COMPONENTS = [
  'core',
  'registry',
  'merkle',
  'x509',
  'oidc',
  'verify',
  'monitor',
  'log',
  'http',
  'ca',
  'ctlog',
  'tlog',
  'tsa',
  'idp',
  'tuf',
  'server',
  'sign',
  'image',
  'cli',
] as const;
export type ErrorComponent = (typeof ERROR_COMPONENTS)[number];

export const ERROR_CODES = {
  // core: shared by every layer
  FORMAT_INVALID: {
    component: 'core',
    meaning: 'Input is malformed: a field is missing, has the wrong type or cannot be decoded (the message names the field).',
  },
  INTERNAL: { component: 'core', meaning: 'An unexpected failure inside Keyless; the details are logged, not shown.' },
  KEY_UNSUPPORTED: { component: 'core', meaning: 'A key type, curve or size that Keyless does not accept.' },
  PUBLIC_KEY_INVALID: { component: 'core', meaning: 'A public key cannot be decoded.' },
  SIGNATURE_INVALID: { component: 'core', meaning: 'A signature does not verify with the given key.' },
  NATIVE_ADDON_MISSING: { component: 'core', meaning: 'The native prehash-verify addon is not built.' },
  FILE_UNREADABLE: { component: 'core', meaning: 'A file named by the user or the configuration cannot be read.' },
  OUTPUT_UNWRITABLE: { component: 'core', meaning: 'An output file cannot be written.' },
  USAGE: { component: 'core', meaning: 'A command was called with missing, conflicting or malformed options.' },
  PREHASH_BACKEND_UNKNOWN: { component: 'core', meaning: 'KEYLESS_PREHASH names a prehash-verification path other than js or addon.' },
  WORKER_MODULE_MISSING: { component: 'core', meaning: 'A worker-thread module is neither built nor available from the sources.' },
  WORKER_NOT_IN_THREAD: { component: 'core', meaning: 'A worker module was started outside a worker thread.' },
  RESPONSE_TOO_LARGE: { component: 'core', meaning: 'A document fetched over the network is larger than its size limit.' },

  // merkle
  INCLUSION_PROOF_INVALID: { component: 'merkle', meaning: 'An inclusion proof does not lead to the expected root hash.' },
  CONSISTENCY_PROOF_INVALID: { component: 'merkle', meaning: 'A consistency proof does not link the two tree sizes.' },
  PROOF_PARAMETER_INVALID: { component: 'merkle', meaning: 'A proof parameter (index, tree size, hash) is out of range or malformed.' },
  NOTE_SIGNATURE_MISSING: { component: 'merkle', meaning: 'A signed note has no signature by the expected key.' },
  NOTE_SIGNATURE_INVALID: { component: 'merkle', meaning: "A signed note's signature does not verify." },

  // x509: certificate paths
  CERTIFICATE_AUTHORITY_NOT_VALID: { component: 'x509', meaning: 'No trusted certificate authority is valid at the verification time.' },
  CERTIFICATE_CHAIN_UNTRUSTED: { component: 'x509', meaning: 'No trusted certificate authority issued the certificate.' },
  CERTIFICATE_EKU_MISSING: { component: 'x509', meaning: 'The leaf certificate lacks the required extended key usage.' },
  CERTIFICATE_EXPIRED: { component: 'x509', meaning: 'A certificate of the path expired before the verification time.' },
  CERTIFICATE_NOT_YET_VALID: { component: 'x509', meaning: 'A certificate of the path is not yet valid at the verification time.' },
  CERTIFICATE_KEY_USAGE: { component: 'x509', meaning: 'The leaf certificate lacks the digitalSignature key usage.' },
  CERTIFICATE_LEAF_IS_CA: { component: 'x509', meaning: 'The leaf certificate is a CA certificate.' },
  CERTIFICATE_NOT_CA: { component: 'x509', meaning: 'An issuing certificate of the path is not a CA.' },
  CERTIFICATE_PATH_LENGTH: { component: 'x509', meaning: "The path is longer than an issuer's path length constraint allows." },
  CERTIFICATE_SIGNATURE_INVALID: { component: 'x509', meaning: 'A certificate is not signed by its issuer in the path.' },
  CERTIFICATE_UNHANDLED_CRITICAL_EXTENSION: {
    component: 'x509',
    meaning: 'A certificate has a critical extension Keyless does not process.',
  },
  SIGNATURE_ALGORITHM_UNSUPPORTED: { component: 'x509', meaning: 'A signature uses an algorithm Keyless does not accept.' },
  // x509: signed certificate timestamps
  SCT_MISSING: { component: 'x509', meaning: 'The certificate embeds no signed certificate timestamp.' },
  SCT_SIGNATURE_INVALID: { component: 'x509', meaning: 'An SCT does not verify with its CT log key.' },
  SCT_THRESHOLD: { component: 'x509', meaning: 'Fewer SCTs verified against trusted CT logs than required.' },
  // x509: RFC 3161 timestamps
  TIMESTAMP_ATTRIBUTE_INVALID: { component: 'x509', meaning: 'A signed attribute of a timestamp token is malformed.' },
  TIMESTAMP_AUTHORITY_UNTRUSTED: { component: 'x509', meaning: 'A timestamp was not signed by a trusted timestamp authority.' },
  TIMESTAMP_EKU_MISSING: { component: 'x509', meaning: 'The TSA certificate lacks the timeStamping extended key usage.' },
  TIMESTAMP_HASH_UNSUPPORTED: {
    component: 'x509',
    meaning: 'A timestamp request or token uses a hash algorithm Keyless does not support.',
  },
  TIMESTAMP_IMPRINT_MISMATCH: { component: 'x509', meaning: "A timestamp's message imprint is not the hash of the signed data." },
  TIMESTAMP_MESSAGE_DIGEST_MISMATCH: {
    component: 'x509',
    meaning: 'The messageDigest attribute of a timestamp does not match its TSTInfo.',
  },
  TIMESTAMP_NOT_GRANTED: { component: 'x509', meaning: 'The timestamp authority refused to grant a timestamp.' },
  TIMESTAMP_OUTSIDE_AUTHORITY_VALIDITY: {
    component: 'x509',
    meaning: "A timestamp's time is outside the TSA's validity in the trusted root.",
  },
  TIMESTAMP_SIGNATURE_INVALID: { component: 'x509', meaning: 'A timestamp signature does not verify with the TSA certificate.' },
  TIMESTAMP_SIGNING_CERTIFICATE_MISMATCH: {
    component: 'x509',
    meaning: "A timestamp's ESS signing-certificate attribute does not match the signer.",
  },
  TIMESTAMP_SIGNING_CERTIFICATE_MISSING: { component: 'x509', meaning: 'A timestamp has no ESS signing-certificate attribute.' },
  TSA_DIGEST_LENGTH: { component: 'x509', meaning: "A timestamp request's digest length does not fit its hash algorithm." },
  TSA_WEAK_HASH: { component: 'x509', meaning: 'A timestamp request uses SHA-1, which is refused.' },

  // oidc: identity tokens
  TOKEN_MISSING: { component: 'oidc', meaning: 'No identity token was given.' },
  TOKEN_MALFORMED: { component: 'oidc', meaning: 'An identity token is not a well-formed JWT.' },
  TOKEN_ISSUER_UNKNOWN: { component: 'oidc', meaning: "An identity token's issuer is not accepted." },
  TOKEN_ISSUER_MISMATCH: { component: 'oidc', meaning: "An identity token's issuer is not the expected one." },
  TOKEN_DISCOVERY_FAILED: { component: 'oidc', meaning: "The issuer's OIDC discovery document or key set cannot be fetched or read." },
  TOKEN_DISCOVERY_TIMEOUT: { component: 'oidc', meaning: "The issuer's OIDC discovery document or key set did not arrive in time." },
  TOKEN_ALG_NONE: { component: 'oidc', meaning: 'An identity token is unsigned (alg "none").' },
  TOKEN_ALG_NOT_ALLOWED: { component: 'oidc', meaning: 'An identity token uses a signature algorithm that is not allowed.' },
  TOKEN_UNKNOWN_KEY: { component: 'oidc', meaning: "An identity token is signed by a key not in the issuer's key set." },
  TOKEN_SIGNATURE_INVALID: { component: 'oidc', meaning: "An identity token's signature does not verify." },
  TOKEN_AUDIENCE_MISMATCH: { component: 'oidc', meaning: 'An identity token is not for the expected audience.' },
  TOKEN_EXPIRED: { component: 'oidc', meaning: 'An identity token has expired.' },
  TOKEN_NOT_YET_VALID: { component: 'oidc', meaning: 'An identity token is not valid yet.' },
  TOKEN_CLAIM_MISSING: { component: 'oidc', meaning: 'An identity token lacks a required claim.' },
  TOKEN_CLAIM_INVALID: { component: 'oidc', meaning: 'An identity token claim has a malformed value.' },
  TOKEN_EMAIL_NOT_VERIFIED: { component: 'oidc', meaning: "An identity token's email address is not verified." },
  TOKEN_SUBJECT_INVALID: { component: 'oidc', meaning: 'An identity token names no usable subject for a certificate.' },

  // verify: the verification pipeline (each names the failed check)
  TRUSTED_ROOT_INVALID: { component: 'verify', meaning: 'The trusted root is malformed or unusable.' },
  POLICY_INVALID: { component: 'verify', meaning: 'The verification policy is incomplete or malformed.' },
  ARTIFACT_INVALID: { component: 'verify', meaning: 'The artifact or its digest cannot be used for verification.' },
  INPUT_TOO_LARGE: { component: 'verify', meaning: 'An input file is larger than the limit for its kind.' },
  TIMESTAMP_INVALID: { component: 'verify', meaning: "A bundle's timestamp does not verify." },
  TIMESTAMP_MISSING: { component: 'verify', meaning: 'The bundle has fewer verified timestamps than required.' },
  CERTIFICATE_INVALID: { component: 'verify', meaning: 'A certificate is malformed or unsuitable for its role.' },
  CERTIFICATE_ROOT_IN_BUNDLE: {
    component: 'verify',
    meaning: 'The bundle carries a root certificate, which must come from the trusted root.',
  },
  CERTIFICATE_UNTRUSTED: { component: 'verify', meaning: 'The signing certificate does not chain to a trusted CA.' },
  CERTIFICATE_NOT_VALID_AT_TIME: { component: 'verify', meaning: 'The signing certificate chain is not valid at a verified time.' },
  SCT_INVALID: { component: 'verify', meaning: "The signing certificate's SCTs do not verify." },
  TLOG_UNKNOWN_LOG: { component: 'verify', meaning: 'A transparency log entry comes from a log not in the trusted root.' },
  TLOG_SET_INVALID: { component: 'verify', meaning: 'A signed entry timestamp (SET) does not verify.' },
  TLOG_CHECKPOINT_INVALID: { component: 'verify', meaning: "A log entry's checkpoint does not verify or does not match the proof." },
  TLOG_INCLUSION_INVALID: { component: 'verify', meaning: "A log entry's inclusion proof does not verify." },
  TLOG_INCLUSION_MISSING: {
    component: 'verify',
    meaning: 'A log entry has neither an inclusion proof nor a promise where one is required.',
  },
  TLOG_BODY_MISMATCH: { component: 'verify', meaning: "A log entry's body does not match the bundle's content." },
  TLOG_DUPLICATE: { component: 'verify', meaning: 'The same log entry appears twice in the bundle.' },
  TLOG_THRESHOLD: { component: 'verify', meaning: 'Fewer log entries verified than the policy requires.' },
  TLOG_KEY_NOT_VALID_AT_TIME: { component: 'verify', meaning: 'No key of the log is valid at the integrated time.' },
  DIGEST_MISMATCH: { component: 'verify', meaning: 'The artifact digest does not match the signed digest.' },
  SUBJECT_MISMATCH: { component: 'verify', meaning: 'The artifact matches no subject of the in-toto statement.' },
  KEY_REQUIRED: { component: 'verify', meaning: 'A public-key bundle was given without the key to verify it.' },
  KEY_MISMATCH: { component: 'verify', meaning: 'The bundle names a different key than the one given.' },
  POLICY_IDENTITY_MISMATCH: { component: 'verify', meaning: "The certificate's identity does not match the policy." },
  POLICY_ISSUER_MISMATCH: { component: 'verify', meaning: "The certificate's OIDC issuer does not match the policy." },
  POLICY_EXTENSION_MISMATCH: { component: 'verify', meaning: 'A Sigstore certificate extension does not match the policy.' },
  PAYLOAD_TYPE_MISMATCH: { component: 'verify', meaning: "The DSSE envelope's payload type is not the expected one." },

  // log: the log engine and its storage
  LOG_CLOSED: { component: 'log', meaning: 'The log is shutting down and accepts no more appends.' },
  LOG_OVERLOADED: { component: 'log', meaning: 'Too many appends are waiting; retry later.' },
  LOG_INDEX_OUT_OF_RANGE: { component: 'log', meaning: 'A log index is not in the tree.' },
  LOG_SIZE_OUT_OF_RANGE: { component: 'log', meaning: 'A tree size is larger than the log.' },
  LOG_ORIGIN_MISMATCH: { component: 'log', meaning: 'A stored log has a different origin than configured.' },
  LOG_SEARCH_KEY: { component: 'log', meaning: 'A search key has the wrong length.' },
  LOG_STATE_CONFLICT: { component: 'log', meaning: 'A write batch does not continue the stored log (another writer?).' },
  LOG_TILE_MISSING: { component: 'log', meaning: 'Tiles needed for a proof are missing from storage.' },
  TLOG_ENTRY_TOO_LARGE: {
    component: 'tlog',
    meaning: 'An entry (or a certificate or key in it) is larger than every read format of the log can serve.',
  },
  TLOG_TILE_UNAVAILABLE: { component: 'tlog', meaning: 'A tile or entry bundle of the published tree cannot be built; an operator alarm.' },
  TLOG_VERIFY_WORKER_FAILED: { component: 'tlog', meaning: 'A signature-verification worker thread stopped; the check is re-run inline.' },
  LOG_WRITE_FAILED: { component: 'log', meaning: 'The log storage writer failed.' },
  LOG_STORAGE_UNAVAILABLE: { component: 'log', meaning: 'The log database cannot be reached right now; retry later.' },
  LOG_MIGRATION_FAILED: {
    component: 'log',
    meaning: 'Copying logs from SQLite into PostgreSQL was refused or failed; nothing was written.',
  },
  LOG_SCHEMA_TOO_NEW: { component: 'log', meaning: 'The log database has a schema newer than this Keyless knows.' },

  // http: every service (request plumbing)
  REQUEST_INVALID: { component: 'http', meaning: 'A request is malformed: wrong shape, parameter, URL or header.' },
  BODY_TOO_LARGE: { component: 'http', meaning: 'The request body is larger than the service accepts.' },
  UNSUPPORTED_MEDIA_TYPE: { component: 'http', meaning: 'The request content type is not accepted by this endpoint.' },
  NOT_FOUND: { component: 'http', meaning: 'No route for this method and path.' },

  // ca: certificate authority (Fulcio API)
  CA_NOT_VALID: { component: 'ca', meaning: 'The issuing CA certificate is outside its validity period, so nothing can be issued.' },
  CSR_INVALID: { component: 'ca', meaning: 'A certificate signing request is malformed.' },
  CSR_SIGNATURE_INVALID: { component: 'ca', meaning: "A certificate signing request's signature does not verify." },
  POP_MISSING: { component: 'ca', meaning: 'A signing-certificate request lacks the proof of possession.' },
  POP_INVALID: { component: 'ca', meaning: 'The proof of possession is not a signature by the submitted key.' },
  CT_LOG_UNAVAILABLE: { component: 'ca', meaning: 'The CA cannot reach its CT log.' },
  CT_LOG_TIMEOUT: { component: 'ca', meaning: 'The CT log did not answer in time.' },
  CT_LOG_REFUSED: { component: 'ca', meaning: 'The CT log refused the precertificate.' },
  CT_LOG_BAD_RESPONSE: { component: 'ca', meaning: 'The CT log answered something that is not an SCT.' },

  // ctlog: certificate transparency log
  CT_CHAIN_EMPTY: { component: 'ctlog', meaning: 'A CT submission has no certificates.' },
  CT_CHAIN_TOO_LONG: { component: 'ctlog', meaning: 'A CT submission has more certificates than allowed.' },
  CT_CERTIFICATE_INVALID: { component: 'ctlog', meaning: 'A certificate of a CT submission cannot be parsed.' },
  CT_CERTIFICATE_EXPIRED: { component: 'ctlog', meaning: 'A certificate of a CT submission is not valid now.' },
  CT_CHAIN_INVALID: { component: 'ctlog', meaning: 'A CT submission is not a valid chain.' },
  CT_CHAIN_UNTRUSTED: { component: 'ctlog', meaning: 'A CT submission does not lead to an accepted root.' },
  CT_IS_PRECERTIFICATE: { component: 'ctlog', meaning: 'A precertificate was submitted to add-chain.' },
  CT_NOT_PRECERTIFICATE: { component: 'ctlog', meaning: 'A certificate submitted to add-pre-chain is not a precertificate.' },
  CT_PRECERT_SIGNING_CERT_UNSUPPORTED: { component: 'ctlog', meaning: 'Precertificate signing certificates are not supported.' },
  CT_HASH_INVALID: { component: 'ctlog', meaning: 'A leaf hash parameter is not 32 bytes.' },
  CT_LEAF_NOT_FOUND: { component: 'ctlog', meaning: 'No leaf with that hash is in the tree.' },
  CT_TREE_SIZE_INVALID: { component: 'ctlog', meaning: 'A tree size parameter is outside the tree.' },
  CT_RANGE_INVALID: { component: 'ctlog', meaning: 'A get-entries range is malformed or starts beyond the tree.' },

  // monitor: keyless monitor
  MONITOR_CONFIG_INVALID: {
    component: 'monitor',
    meaning: 'The monitor configuration (YAML, flags or environment) is invalid; the message names the key.',
  },
  MONITOR_STATE_INVALID: { component: 'monitor', meaning: 'The monitor state file is unreadable or does not describe a tree.' },
  MONITOR_LOG_UNREACHABLE: { component: 'monitor', meaning: 'A monitored log did not answer within the --timeout.' },
  MONITOR_LOG_GARBLED: {
    component: 'monitor',
    meaning: 'A monitored log answered something that is not its API (garbage, a wrong status, a missing entry).',
  },
  MONITOR_LOG_INCONSISTENT: {
    component: 'monitor',
    meaning:
      'A monitored log contradicts its key or its stored tree: bad tree-head signature, fork, shrunk tree, or entries not hashing to the root.',
  },

  // tlog: transparency logs (Rekor v1 and v2)
  ENTRY_EXISTS: { component: 'tlog', meaning: 'An equivalent entry already exists in the log.' },
  LOG_SHARD_RETIRED: {
    component: 'tlog',
    meaning: 'The log shard is retired for writes (it stays readable); the signing config names the current shard.',
  },
  ENTRY_NOT_FOUND: { component: 'tlog', meaning: 'No log entry with that index or UUID.' },
  TREE_NOT_FOUND: { component: 'tlog', meaning: 'No log with that tree ID.' },
  TILE_NOT_FOUND: { component: 'tlog', meaning: 'No such tile or entry bundle.' },
  HASH_ALGORITHM_UNSUPPORTED: { component: 'tlog', meaning: "A log entry's hash algorithm does not fit its key." },
  KEY_DETAILS_MISMATCH: { component: 'tlog', meaning: "A log entry's keyDetails do not describe the given key." },

  // tsa: timestamp authority
  TSA_EXTENSIONS_UNSUPPORTED: { component: 'tsa', meaning: 'A timestamp request carries extensions, which are not supported.' },
  TSA_POLICY_UNSUPPORTED: { component: 'tsa', meaning: 'A timestamp request asks for a policy the TSA does not accept.' },

  // idp: the development identity provider. The lowercase codes are OAuth 2.0's (RFC 6749 §5.2, RFC 8628 §3.5).
  TOO_MANY_PENDING_CODES: { component: 'idp', meaning: 'Too many unredeemed authorization codes; retry shortly.' },
  DEV_IDP_UNREACHABLE: { component: 'idp', meaning: 'The development identity provider cannot be reached.' },
  DEV_IDP_REFUSED: { component: 'idp', meaning: 'The development identity provider refused the token request.' },
  DEV_IDP_BAD_RESPONSE: { component: 'idp', meaning: 'The development identity provider answered without an id_token.' },
  invalid_request: { component: 'idp', meaning: 'OAuth: a parameter of the authorization or token request is missing or malformed.' },
  invalid_grant: { component: 'idp', meaning: 'OAuth: the authorization code, device code or PKCE verifier is unknown, used or wrong.' },
  unauthorized_client: { component: 'idp', meaning: 'OAuth: the grant is disabled for this client.' },
  unsupported_grant_type: { component: 'idp', meaning: 'OAuth: the grant type is not supported.' },
  unsupported_response_type: { component: 'idp', meaning: 'OAuth: the response type is not supported (only "code").' },
  authorization_pending: { component: 'idp', meaning: 'OAuth device flow: the user has not completed the login yet.' },
  expired_token: { component: 'idp', meaning: 'OAuth device flow: the device code expired.' },

  // tuf: the TUF repository (server side) and the client that bootstraps trust from it
  TUF_DURATION_INVALID: { component: 'tuf', meaning: 'A TUF expiry period is not a duration such as "30s", "12h" or "7d".' },
  TUF_KEY_MISSING: {
    component: 'tuf',
    meaning: 'A TUF role key that the operation needs is not in the key store (or is not the one the root names).',
  },
  TUF_THRESHOLD_INVALID: {
    component: 'tuf',
    meaning: 'A TUF role threshold or key count is out of range (1 <= threshold <= keys <= 16).',
  },
  TUF_KEY_UNSUPPORTED: { component: 'tuf', meaning: 'A key cannot be a TUF key (only Ed25519 and ECDSA P-256/P-384).' },
  TUF_REPOSITORY_INVALID: {
    component: 'tuf',
    meaning: 'The TUF repository in the data directory is incomplete or holds unreadable metadata.',
  },
  TUF_REPOSITORY_MISSING: { component: 'tuf', meaning: 'The data directory has no TUF repository yet.' },
  TUF_NOT_FOUND: { component: 'tuf', meaning: 'The TUF repository has no file by the requested name.' },
  TUF_ROOT_INVALID: {
    component: 'tuf',
    meaning: 'The root given to initialize is unreadable, not a TUF root, or does not match --root-checksum.',
  },
  TUF_MIRROR_INVALID: { component: 'tuf', meaning: 'A TUF mirror URL is not an http(s) URL without query, fragment or credentials.' },
  TUF_MIRROR_UNREACHABLE: { component: 'tuf', meaning: 'The TUF mirror cannot be reached (or may not be asked: --offline).' },
  TUF_HTTP_ERROR: { component: 'tuf', meaning: 'The TUF mirror answered an HTTP error for a file the client needs.' },
  TUF_METADATA_MALFORMED: { component: 'tuf', meaning: 'TUF metadata from the mirror is not well-formed.' },
  TUF_METADATA_EXPIRED: {
    component: 'tuf',
    meaning: 'TUF metadata has expired: the repository is not being re-signed (stopped server or freeze attack).',
  },
  TUF_ROLLBACK: { component: 'tuf', meaning: 'The mirror served an older version of TUF metadata than the client already trusts.' },
  TUF_VERSION_MISMATCH: { component: 'tuf', meaning: 'A TUF metadata version differs from the version the referring metadata names.' },
  TUF_SIGNATURE_INVALID: { component: 'tuf', meaning: 'TUF metadata is not signed by the threshold of keys the trusted root names.' },
  TUF_HASH_MISMATCH: { component: 'tuf', meaning: 'A TUF file does not match the length or hash signed for it.' },
  TUF_TOO_LARGE: { component: 'tuf', meaning: 'A TUF file from the mirror is larger than its limit.' },
  TUF_TARGET_MISSING: { component: 'tuf', meaning: 'The TUF repository does not list a target the command needs.' },
  TUF_CACHE_INVALID: { component: 'tuf', meaning: 'The local TUF cache is damaged; keyless initialize recreates it.' },

  // server: the keyless serve process
  CONFIG_INVALID: { component: 'server', meaning: 'The server configuration is invalid.' },
  CERT_FILE_INVALID: { component: 'server', meaning: 'A stored CA certificate file does not hold the expected certificates.' },
  KEY_FILE_INVALID: { component: 'server', meaning: 'A stored private key file cannot be read as a key.' },
  KEY_NAME_INVALID: { component: 'server', meaning: 'A key name has characters that are not allowed.' },
  DATA_DIR_INVALID: { component: 'server', meaning: 'The data directory path is not a directory.' },
  DATA_DIR_NOT_OWNED: { component: 'server', meaning: "The data directory is owned by another user than the server's." },
  KEY_FILE_NOT_OWNED: { component: 'server', meaning: "A key file in the data directory is owned by another user than the server's." },
  DATA_DIR_LOCKED: { component: 'server', meaning: 'Another keyless serve is using the data directory.' },
  LOG_SHARDS_INVALID: { component: 'server', meaning: 'The log shard list in the data directory is unreadable or inconsistent.' },
  LISTEN_FAILED: { component: 'server', meaning: 'The server cannot listen on the address.' },
  DEV_IDP_NOT_LOOPBACK: {
    component: 'server',
    meaning: 'The development IdP is forced on while the server is reachable beyond loopback, without devIdp.allowPublic.',
  },
  STORAGE_DRIVER_UNKNOWN: { component: 'server', meaning: 'storage.driver names a driver this build does not have.' },
  SERVER_STARTING: { component: 'server', meaning: 'The server is still building its routes; retry after the Retry-After delay.' },
  PUBLIC_URL_CHANGED: { component: 'server', meaning: "The public URL's host differs from the one the stored log was created for." },

  // sign: the signing client
  SERVICE_URL_INVALID: { component: 'sign', meaning: 'A service URL is not an http(s) URL.' },
  SERVICE_UNREACHABLE: { component: 'sign', meaning: 'A service cannot be reached.' },
  SERVICE_TIMEOUT: { component: 'sign', meaning: 'A service did not answer in time.' },
  SERVICE_REJECTED: { component: 'sign', meaning: 'A service refused the request (HTTP 4xx).' },
  SERVICE_FAILED: { component: 'sign', meaning: 'A service failed (HTTP 5xx) after the retries.' },
  SERVICE_BAD_RESPONSE: { component: 'sign', meaning: 'A service answered something malformed.' },
  SPIFFE_ENDPOINT_INVALID: { component: 'sign', meaning: 'SPIFFE_ENDPOINT_SOCKET is neither a unix socket nor tcp://IP:PORT.' },
  CERTIFICATE_KEY_MISMATCH: { component: 'sign', meaning: 'The CA returned a certificate for a different public key.' },
  CERTIFICATE_IDENTITY_MISSING: { component: 'sign', meaning: 'The CA issued a certificate without a Sigstore identity.' },
  CERTIFICATE_IDENTITY_MISMATCH: { component: 'sign', meaning: 'The CA certified a different identity than the token names.' },
  TIMESTAMP_NONCE_MISMATCH: { component: 'sign', meaning: 'The TSA answer does not echo the request nonce.' },
  OIDC_DISCOVERY_MISMATCH: { component: 'sign', meaning: 'The discovery document names a different issuer.' },
  OIDC_FLOW_UNSUPPORTED: { component: 'sign', meaning: 'The identity provider offers no login flow Keyless can use.' },
  OIDC_LOGIN_FAILED: { component: 'sign', meaning: 'The interactive login failed at the identity provider.' },
  OIDC_LOGIN_TIMEOUT: { component: 'sign', meaning: 'The interactive login was not completed in time.' },
  OIDC_NONCE_MISMATCH: { component: 'sign', meaning: 'The ID token nonce does not match the login request.' },
  OIDC_STATE_MISMATCH: { component: 'sign', meaning: 'The login redirect carried the wrong state.' },
  OIDC_REDIRECT_LISTENER: { component: 'sign', meaning: 'Cannot listen on loopback for the login redirect.' },
  NO_USABLE_SERVICE: { component: 'sign', meaning: 'The signing config offers no usable service of a needed kind.' },
  SIGNING_CONFIG_INVALID: { component: 'sign', meaning: 'The signing config is malformed.' },
  STAGING_UNAVAILABLE: { component: 'sign', meaning: 'The public staging instance cannot be used here.' },
  TRUSTED_ROOT_REQUIRED: { component: 'sign', meaning: 'Signing needs the trusted root to verify the bundle before writing it.' },
  PREDICATE_INVALID: { component: 'sign', meaning: 'The attestation predicate is not JSON.' },
  PREDICATE_TYPE_INVALID: { component: 'sign', meaning: 'The predicate type is neither a URI nor a known alias.' },
  STATEMENT_NO_SHA256_SUBJECT: { component: 'sign', meaning: 'The in-toto statement has no subject with a sha256 digest.' },
  SELF_VERIFY_FAILED: { component: 'sign', meaning: 'The new bundle does not verify, so it was not written.' },
  KEY_DISPOSED: { component: 'sign', meaning: 'The signing key (ephemeral or loaded with --key) was already discarded.' },
  SIGNING_KEY_INVALID: {
    component: 'sign',
    meaning: 'A --key file is not a private key in a format Keyless reads (encrypted PKCS#8, cosign encrypted, PKCS#8, SEC 1).',
  },
  SIGNING_KEY_UNSUPPORTED: {
    component: 'sign',
    meaning: 'A --key file holds a key other than ECDSA P-256, the one key type key-pair signing uses.',
  },
  SIGNING_KEY_PASSWORD_WRONG: { component: 'sign', meaning: 'The password does not decrypt the --key file.' },
  VERIFY_MODULE_MISSING: { component: 'sign', meaning: 'The verifier module for the worker threads cannot be found.' },
  VERIFY_WORKER_FAILED: { component: 'sign', meaning: 'A verification worker thread failed.' },

  // registry: the OCI registry client (the message names the registry)
  REGISTRY_REFERENCE_INVALID: { component: 'registry', meaning: 'An image reference is not [host[:port]/]repository[:tag][@sha256:hex].' },
  REGISTRY_UNREACHABLE: { component: 'registry', meaning: 'A registry cannot be reached (connection refused, DNS, TLS).' },
  REGISTRY_TIMEOUT: { component: 'registry', meaning: 'A registry did not answer in time, or the command ran out of its --timeout.' },
  REGISTRY_UNAUTHORIZED: { component: 'registry', meaning: 'A registry requires credentials, or refused the ones given (401).' },
  REGISTRY_DENIED: {
    component: 'registry',
    meaning: 'The credentials do not allow the operation on the repository (403, insufficient scope).',
  },
  REGISTRY_NOT_FOUND: { component: 'registry', meaning: 'No such repository, tag, manifest or blob in the registry.' },
  REGISTRY_BAD_RESPONSE: {
    component: 'registry',
    meaning: 'A registry answered something that is not the distribution API (HTML, not JSON, an unexpected status).',
  },
  REGISTRY_TOO_LARGE: { component: 'registry', meaning: 'A manifest, index or blob from a registry is larger than its size limit.' },
  REGISTRY_DIGEST_MISMATCH: {
    component: 'registry',
    meaning: 'Content from a registry does not have the digest it was asked for or claimed.',
  },
  REGISTRY_FAILED: { component: 'registry', meaning: 'A registry kept failing (429 or 5xx) after the retries.' },
  REGISTRY_CREDENTIALS_UNREADABLE: {
    component: 'registry',
    meaning: 'The Docker config file or a credential helper cannot be read or run.',
  },
  REGISTRY_CONFLICT: { component: 'registry', meaning: 'The referrers fallback tag kept changing under concurrent writers.' },

  // image: container image signatures
  IMAGE_NO_SIGNATURES: { component: 'image', meaning: 'Nothing that could be a signature (or attestation) is attached to the image.' },
  IMAGE_NOT_VERIFIED: {
    component: 'image',
    meaning: 'Signatures are attached to the image, but none verifies (the message gives the first reason).',
  },
  IMAGE_LEGACY_NEEDS_REKOR_V1: {
    component: 'image',
    meaning: 'The legacy .sig/.att layout needs a Rekor v1 log (a signed entry timestamp); only a v2 log is configured.',
  },
  IMAGE_ANNOTATION_INVALID: { component: 'image', meaning: 'A signature lacks an annotation required with -a, or carries another value.' },
  IMAGE_BUNDLE_INVALID: { component: 'image', meaning: 'An attached signature is not about this image or is not of the expected kind.' },

  // cli
  CHAIN_ORDER: { component: 'cli', meaning: 'A certificate chain file is not ordered leaf first, root last.' },
  TIMEOUT: { component: 'cli', meaning: 'The command did not finish within its --timeout.' },
  BUNDLE_NOT_FOUND: {
    component: 'cli',
    meaning: 'verify-blob FILE...: no bundle for a file in --bundle-dir, or the bundle a --manifest line names does not exist.',
  },
  MANIFEST_INVALID: { component: 'cli', meaning: 'A --manifest file cannot be read or has a line that is not ARTIFACT [BUNDLE].' },
  INPUT_NOT_JSON: {
    component: 'cli',
    meaning: 'A file that must hold JSON (bundle, trusted root, signing config) holds something else, e.g. binary data.',
  },
  PASSWORD_REQUIRED: {
    component: 'cli',
    meaning: 'A key password is needed but neither COSIGN_PASSWORD nor KEYLESS_PASSWORD is set and there is no terminal to ask on.',
  },
  PASSWORD_MISMATCH: { component: 'cli', meaning: 'The password and its confirmation typed at the prompt differ.' },
  PASSWORD_EMPTY: { component: 'cli', meaning: 'An empty password was typed for a new key (set COSIGN_PASSWORD= to mean it).' },
  KEY_FILE_EXISTS: { component: 'cli', meaning: 'generate-key-pair would overwrite an existing key file (pass --force to replace it).' },
  INPUT_WRONG_DOCUMENT: {
    component: 'cli',
    meaning: 'A file holds another Sigstore document than the flag expects, e.g. a trusted root given as --bundle.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes a component owns, e.g. `ErrorCodeOf<'x509'>`. */
export type ErrorCodeOf<C extends ErrorComponent> = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K]['component'] extends C ? K : never;
}[ErrorCode];

export type CoreErrorCode = ErrorCodeOf<'core'>;
export type MerkleErrorCode = ErrorCodeOf<'merkle'>;
export type X509ErrorCode = ErrorCodeOf<'x509'>;
export type OidcErrorCode = ErrorCodeOf<'oidc'>;
export type VerifyErrorCode = ErrorCodeOf<'verify'>;
export type MonitorErrorCode = ErrorCodeOf<'monitor'>;
export type LogErrorCode = ErrorCodeOf<'log'>;
export type HttpErrorCode = ErrorCodeOf<'http'>;
export type CaErrorCode = ErrorCodeOf<'ca'>;
export type CtlogErrorCode = ErrorCodeOf<'ctlog'>;
export type TlogErrorCode = ErrorCodeOf<'tlog'>;
export type TsaErrorCode = ErrorCodeOf<'tsa'>;
export type IdpErrorCode = ErrorCodeOf<'idp'>;
export type TufErrorCode = ErrorCodeOf<'tuf'>;
export type ServerErrorCode = ErrorCodeOf<'server'>;
export type SignErrorCode = ErrorCodeOf<'sign'>;
export type CliErrorCode = ErrorCodeOf<'cli'>;
export type RegistryErrorCode = ErrorCodeOf<'registry'>;
export type ImageErrorCode = ErrorCodeOf<'image'>;

/** For codes that crossed a boundary as plain strings (worker messages, JSON). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
