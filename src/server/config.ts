import { readFileSync } from 'node:fs';
import { FormatError, KeylessError } from '../core/errors.js';
import { asArray, asObject, asString, parseJson } from '../core/json.js';
import { DEFAULT_TUF_CONFIG, parseTufConfig, type TufConfig } from '../services/tuf/index.js';
import { ISSUER_TYPES, type IssuerType, type IssuerConfig as OidcIssuerConfig } from '../oidc/index.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../services/http/index.js';

/** Key types the server can generate for its own keys (log, CA, TSA, IdP). */
export type ServerKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
export const SERVER_KEY_TYPES: readonly ServerKeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

/**
 * One identity provider whose tokens the CA accepts: Fulcio's issuer configuration
 * (`issuer-url`, `client-id`, `type`, ...) in camelCase, exactly src/oidc's shape, less the
 * in-process key set that only the development IdP uses.
 */
export type IssuerConfig = Omit<OidcIssuerConfig, 'jwks'>;

/** Which algorithm each server key uses. P-256 is the cheap default; P-384 signs ~30x slower. */
export interface KeyChoices {
  /** CA root and intermediate (the intermediate signs every leaf certificate). */
  ca: ServerKeyType;
  ctlog: ServerKeyType;
  /** Rekor v1 log: signed entry timestamps and checkpoints (sigstore-js verifies SETs with SHA-256: keep P-256). */
  rekorV1: ServerKeyType;
  /** Rekor v2 log: checkpoint signed notes (Ed25519 as C2SP and the public shards use). */
  rekorV2: ServerKeyType;
  /** TSA root and signing certificate. */
  tsa: ServerKeyType;
  /** The development identity provider's token-signing key. */
  idp: ServerKeyType;
}

export interface ValidityConfig {
  /** Leaf (code-signing) certificates: Fulcio issues 10 minutes. */
  leafCertificateMinutes: number;
  /** CA root and intermediate certificates, from first start. */
  caCertificateDays: number;
  /** TSA certificate chain, from first start. */
  tsaCertificateDays: number;
}

export interface LimitsConfig extends ConnectionLimits {
  /** Largest request body in bytes (413 above). */
  bodyLimit: number;
}

export interface DevIdpConfig {
  /** `auto`: on only when every way in is loopback (the bind address and the public URL's host). */
  enabled: boolean | 'auto';
  /**
   * The operator's acknowledgement that the any-identity IdP may be reached from other
   * machines (a non-loopback bind address or public URL); only with `enabled: true`.
   */
  allowPublic: boolean;
}

/** Storage drivers the log engine can use; the server opens the chosen one (server/storage.ts). */
export const STORAGE_DRIVERS = ['sqlite', 'postgres'] as const;
export type StorageDriverName = (typeof STORAGE_DRIVERS)[number];

export interface StorageConfig {
  /** `sqlite` (the default: files in `<dataDir>/log`) or `postgres` (one database shared by any number of frontends). */
  driver: StorageDriverName;
  /** postgres: `postgres://USER@HOST:PORT/DB`; the password comes from PGPASSWORD or `passwordFile`, never from this file. */
  url?: string;
  /** postgres: a file holding the password (one line). */
  passwordFile?: string;
  /** postgres: TLS to the database; `true` verifies against the system CAs, an object names the CA and client certificate files. */
  ssl?: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  /** postgres: connections per frontend (default 10). */
  poolSize?: number;
  /** postgres: how often a frontend looks for checkpoints other frontends wrote when no NOTIFY came (ms, default 500). */
  pollMs?: number;
  /** postgres: LISTEN for other frontends' commits (default true; false behind a transaction-pooling proxy). */
  listen?: boolean;
}

export interface ServerConfig {
  /** Address written into the trust files; the CLI's `--public-url` wins. */
  publicUrl?: string;
  /** Organization named in the generated certificates. */
  organization: string;
  issuers: IssuerConfig[];
  devIdp: DevIdpConfig;
  storage: StorageConfig;
  keys: KeyChoices;
  validity: ValidityConfig;
  limits: LimitsConfig;
  /** The TUF repository that distributes the trust files (services/tuf). */
  tuf: TufConfig;
}

const DEFAULTS: ServerConfig = {
  organization: 'Keyless',
  issuers: [],
  devIdp: { enabled: 'auto', allowPublic: false },
  storage: { driver: 'sqlite' },
  keys: { ca: 'ecdsa-p256', ctlog: 'ecdsa-p256', rekorV1: 'ecdsa-p256', rekorV2: 'ed25519', tsa: 'ecdsa-p256', idp: 'ecdsa-p256' },
  validity: { leafCertificateMinutes: 10, caCertificateDays: 3650, tsaCertificateDays: 3650 },
  limits: { bodyLimit: 1024 * 1024, ...DEFAULT_CONNECTION_LIMITS },
  tuf: { ...DEFAULT_TUF_CONFIG, periods: { ...DEFAULT_TUF_CONFIG.periods } },
};
export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze(DEFAULTS);

/** Reads and validates a configuration file; every error names the offending field. */
export function loadConfigFile(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KeylessError(
      'FILE_UNREADABLE',
      `cannot read configuration file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseConfig(parseJson(text, 'config'));
}

const TOP_LEVEL = new Set(['publicUrl', 'organization', 'issuers', 'devIdp', 'storage', 'keys', 'validity', 'limits', 'tuf', '$comment']);

/** Validates a parsed configuration object and fills in defaults. Unknown fields are refused (typos must not pass silently). */
export function parseConfig(json: unknown): ServerConfig {
  const o = asObject(json, 'config');
  rejectUnknown(o, TOP_LEVEL, 'config');
  const config: ServerConfig = {
    organization: DEFAULT_CONFIG.organization,
    issuers: [],
    devIdp: { ...DEFAULT_CONFIG.devIdp },
    storage: { ...DEFAULT_CONFIG.storage },
    keys: { ...DEFAULT_CONFIG.keys },
    validity: { ...DEFAULT_CONFIG.validity },
    limits: { ...DEFAULT_CONFIG.limits },
    tuf: { ...DEFAULT_CONFIG.tuf, periods: { ...DEFAULT_CONFIG.tuf.periods } },
  };
  if (o.tuf !== undefined) config.tuf = parseTufConfig(o.tuf);
  if (o.publicUrl !== undefined) config.publicUrl = parsePublicUrl(asString(o.publicUrl, 'config.publicUrl'), 'config.publicUrl');
  if (o.organization !== undefined) config.organization = nonEmpty(o.organization, 'config.organization');
  if (o.issuers !== undefined) config.issuers = asArray(o.issuers, 'config.issuers').map((v, i) => parseIssuer(v, `config.issuers[${i}]`));
  if (o.devIdp !== undefined) {
    const d = asObject(o.devIdp, 'config.devIdp');
    rejectUnknown(d, new Set(['enabled', 'allowPublic']), 'config.devIdp');
    if (d.enabled !== undefined) {
      if (d.enabled !== true && d.enabled !== false && d.enabled !== 'auto')
        throw new FormatError('config.devIdp.enabled', 'must be true, false or "auto"');
      config.devIdp.enabled = d.enabled;
    }
    if (d.allowPublic !== undefined) {
      if (typeof d.allowPublic !== 'boolean') throw new FormatError('config.devIdp.allowPublic', 'must be true or false');
      if (d.allowPublic && config.devIdp.enabled !== true) {
        throw new FormatError(
          'config.devIdp.allowPublic',
          'only goes with "enabled": true (auto never serves the development IdP beyond loopback)',
        );
      }
      config.devIdp.allowPublic = d.allowPublic;
    }
  }
  if (o.storage !== undefined) {
    const st = asObject(o.storage, 'config.storage');
    rejectUnknown(st, new Set(['driver', 'url', 'passwordFile', 'ssl', 'poolSize', 'pollMs', 'listen']), 'config.storage');
    if (st.driver !== undefined) {
      const driver = asString(st.driver, 'config.storage.driver');
      if (!(STORAGE_DRIVERS as readonly string[]).includes(driver)) {
        throw new FormatError(
          'config.storage.driver',
          `unknown storage driver ${JSON.stringify(driver)} (available: ${STORAGE_DRIVERS.join(', ')})`,
        );
      }
      config.storage.driver = driver as StorageDriverName;
    }
    if (st.url !== undefined) config.storage.url = parseDatabaseUrl(asString(st.url, 'config.storage.url'), 'config.storage.url');
    if (st.passwordFile !== undefined) config.storage.passwordFile = nonEmpty(st.passwordFile, 'config.storage.passwordFile');
    if (st.poolSize !== undefined) {
      if (typeof st.poolSize !== 'number' || !Number.isInteger(st.poolSize) || st.poolSize < 1 || st.poolSize > 1000) {
        throw new FormatError('config.storage.poolSize', 'must be an integer from 1 to 1000');
      }
      config.storage.poolSize = st.poolSize;
    }
    if (st.pollMs !== undefined) {
      if (typeof st.pollMs !== 'number' || !Number.isInteger(st.pollMs) || st.pollMs < 10 || st.pollMs > 86_400_000) {
        throw new FormatError('config.storage.pollMs', 'must be an integer from 10 to 86400000 (milliseconds)');
      }
      config.storage.pollMs = st.pollMs;
    }
    if (st.listen !== undefined) {
      if (typeof st.listen !== 'boolean') throw new FormatError('config.storage.listen', 'must be true or false');
      config.storage.listen = st.listen;
    }
    if (st.ssl !== undefined) {
      if (typeof st.ssl === 'boolean') config.storage.ssl = st.ssl;
      else {
        const t = asObject(st.ssl, 'config.storage.ssl');
        rejectUnknown(t, new Set(['ca', 'cert', 'key', 'rejectUnauthorized']), 'config.storage.ssl');
        const ssl: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean } = {};
        for (const f of ['ca', 'cert', 'key'] as const) if (t[f] !== undefined) ssl[f] = nonEmpty(t[f], `config.storage.ssl.${f}`);
        if (t.rejectUnauthorized !== undefined) {
          if (typeof t.rejectUnauthorized !== 'boolean')
            throw new FormatError('config.storage.ssl.rejectUnauthorized', 'must be true or false');
          ssl.rejectUnauthorized = t.rejectUnauthorized;
        }
        config.storage.ssl = ssl;
      }
    }
    if (config.storage.driver === 'postgres' && !config.storage.url)
      throw new FormatError('config.storage.url', 'the postgres driver needs a database URL');
    if (config.storage.driver !== 'postgres' && Object.keys(st).some((k) => k !== 'driver')) {
      throw new FormatError('config.storage', 'url, passwordFile, ssl, poolSize, pollMs and listen only go with "driver": "postgres"');
    }
  }
  if (o.keys !== undefined) {
    const k = asObject(o.keys, 'config.keys');
    rejectUnknown(k, new Set(Object.keys(DEFAULT_CONFIG.keys)), 'config.keys');
    for (const name of Object.keys(config.keys) as (keyof KeyChoices)[]) {
      if (k[name] === undefined) continue;
      const t = asString(k[name], `config.keys.${name}`);
      if (!(SERVER_KEY_TYPES as readonly string[]).includes(t))
        throw new FormatError(`config.keys.${name}`, `unknown key type ${t} (one of ${SERVER_KEY_TYPES.join(', ')})`);
      config.keys[name] = t as ServerKeyType;
    }
    // Signed notes and SETs are verified by peers with fixed hashes: refuse what they cannot check.
    if (config.keys.rekorV1.startsWith('rsa') || config.keys.ctlog.startsWith('rsa')) {
      throw new FormatError('config.keys', 'RSA log keys are not supported (sigstore-js reads them as PKCS#1); use ecdsa-p256 or ed25519');
    }
    if (config.keys.idp !== 'ecdsa-p256')
      throw new FormatError('config.keys.idp', 'the development IdP signs ES256 tokens: ecdsa-p256 only');
    if (config.keys.rekorV1 === 'ed25519' || config.keys.ctlog === 'ed25519') {
      throw new FormatError('config.keys', 'Rekor v1 and CT log keys must be ECDSA (signed entry timestamps and SCTs)');
    }
  }
  if (o.validity !== undefined) {
    const v = asObject(o.validity, 'config.validity');
    rejectUnknown(v, new Set(Object.keys(DEFAULT_CONFIG.validity)), 'config.validity');
    for (const name of Object.keys(config.validity) as (keyof ValidityConfig)[]) {
      if (v[name] !== undefined) config.validity[name] = positiveInteger(v[name], `config.validity.${name}`);
    }
  }
  if (o.limits !== undefined) {
    const l = asObject(o.limits, 'config.limits');
    rejectUnknown(l, new Set(Object.keys(DEFAULT_CONFIG.limits)), 'config.limits');
    for (const name of Object.keys(config.limits) as (keyof LimitsConfig)[]) {
      if (l[name] !== undefined) config.limits[name] = positiveInteger(l[name], `config.limits.${name}`);
    }
    // The headers are part of the request: a shorter request timeout alone shortens the headers' too.
    if (l.headersTimeoutMs === undefined)
      config.limits.headersTimeoutMs = Math.min(config.limits.headersTimeoutMs, config.limits.requestTimeoutMs);
    if (config.limits.headersTimeoutMs > config.limits.requestTimeoutMs) {
      throw new FormatError('config.limits.headersTimeoutMs', 'must not be longer than requestTimeoutMs (headers are part of the request)');
    }
  }
  return config;
}

const ISSUER_FIELDS = new Set([
  'issuerUrl',
  'wildcardIssuerUrl',
  'clientId',
  'type',
  'ciProvider',
  'subjectDomain',
  'spiffeTrustDomain',
  'challengeClaim',
  'issuerClaim',
  'skipEmailVerification',
  'ciBaseUrl',
  'algorithms',
]);
const JWS_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);

function parseIssuer(value: unknown, field: string): IssuerConfig {
  const o = asObject(value, field);
  rejectUnknown(o, ISSUER_FIELDS, field);
  const type = asString(o.type, `${field}.type`);
  if (!(ISSUER_TYPES as readonly string[]).includes(type))
    throw new FormatError(`${field}.type`, `unknown issuer type ${type} (one of ${ISSUER_TYPES.join(', ')})`);
  const issuer: IssuerConfig = { type: type as IssuerType };
  if ((o.issuerUrl === undefined) === (o.wildcardIssuerUrl === undefined)) {
    throw new FormatError(`${field}.issuerUrl`, 'exactly one of issuerUrl and wildcardIssuerUrl is required');
  }
  if (o.issuerUrl !== undefined) issuer.issuerUrl = issuerUrl(o.issuerUrl, `${field}.issuerUrl`);
  if (o.wildcardIssuerUrl !== undefined) issuer.wildcardIssuerUrl = issuerUrl(o.wildcardIssuerUrl, `${field}.wildcardIssuerUrl`);
  issuer.clientId = o.clientId === undefined ? 'sigstore' : nonEmpty(o.clientId, `${field}.clientId`);
  for (const name of ['subjectDomain', 'spiffeTrustDomain', 'challengeClaim', 'issuerClaim', 'ciBaseUrl'] as const) {
    if (o[name] !== undefined) issuer[name] = nonEmpty(o[name], `${field}.${name}`);
  }
  if (o.ciProvider !== undefined) {
    const p = asString(o.ciProvider, `${field}.ciProvider`);
    if (p !== 'github-workflow' && p !== 'gitlab-pipeline')
      throw new FormatError(`${field}.ciProvider`, 'must be github-workflow or gitlab-pipeline');
    issuer.ciProvider = p;
  }
  if (o.skipEmailVerification !== undefined) {
    if (typeof o.skipEmailVerification !== 'boolean') throw new FormatError(`${field}.skipEmailVerification`, 'must be true or false');
    issuer.skipEmailVerification = o.skipEmailVerification;
  }
  if (o.algorithms !== undefined) {
    issuer.algorithms = asArray(o.algorithms, `${field}.algorithms`).map((a, i) => {
      const alg = asString(a, `${field}.algorithms[${i}]`);
      if (!JWS_ALGORITHMS.has(alg)) throw new FormatError(`${field}.algorithms[${i}]`, `unsupported JWS algorithm ${alg}`);
      return alg;
    });
  }
  if ((issuer.type === 'uri' || issuer.type === 'username') && !issuer.subjectDomain) {
    throw new FormatError(`${field}.subjectDomain`, `is required for ${issuer.type} issuers`);
  }
  if (issuer.type === 'spiffe' && !issuer.spiffeTrustDomain)
    throw new FormatError(`${field}.spiffeTrustDomain`, 'is required for spiffe issuers');
  if (issuer.type === 'ci-provider' && !issuer.ciProvider)
    throw new FormatError(`${field}.ciProvider`, 'is required for ci-provider issuers');
  return issuer;
}

function issuerUrl(value: unknown, field: string): string {
  const s = asString(value, field);
  let parsed: URL;
  try {
    parsed = new URL(s.replaceAll('*', 'x'));
  } catch {
    throw new FormatError(field, `is not a URL: ${s}`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname))) {
    throw new FormatError(field, 'must use https (http only on loopback)');
  }
  return s;
}

/** A base URL for the trust files: http(s), no query or fragment, no trailing slash. */
export function parsePublicUrl(value: string, field = 'publicUrl'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FormatError(field, `is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FormatError(field, 'must be an http or https URL');
  if (url.search || url.hash || url.username || url.password)
    throw new FormatError(field, 'must not carry credentials, a query or a fragment');
  return url.href.replace(/\/+$/, '');
}

/** A PostgreSQL connection string for the log engine: postgres(ql)://, never with a password in it. */
export function parseDatabaseUrl(value: string, field = 'storage.url'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FormatError(field, `is not a URL: ${value}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new FormatError(field, 'must be a postgres:// URL');
  if (url.password) throw new FormatError(field, 'must not carry the password (set PGPASSWORD or storage.passwordFile)');
  return value;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function rejectUnknown(o: Record<string, unknown>, allowed: Set<string>, field: string): void {
  for (const k of Object.keys(o)) if (!allowed.has(k)) throw new FormatError(`${field}.${k}`, 'unknown field');
}

function nonEmpty(v: unknown, field: string): string {
  const s = asString(v, field);
  if (s.length === 0) throw new FormatError(field, 'must not be empty');
  return s;
}

function positiveInteger(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new FormatError(field, 'must be a positive integer');
  return v;
}
