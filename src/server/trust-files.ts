import { readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, type KeyObject } from 'node:crypto';
import {
  serializeTrustedRoot,
  serializeSigningConfig,
  TRUSTED_ROOT_MEDIA_TYPE,
  SIGNING_CONFIG_MEDIA_TYPE,
  HashAlgorithmValue,
  ServiceSelectorValue,
  keyDetailsForKey,
  type TrustedRoot,
  type SigningConfig,
  type TransparencyLogInstance,
  type Service,
} from '../formats/index.js';
import { describeKey, publicKeyDer } from '../core/keys.js';
import { pemEncode } from '../core/encoding.js';

/** A transparency or CT log as the trust files describe it. */
export interface LogDescription {
  baseUrl: string;
  publicKey: KeyObject;
  /** The full 32-byte log ID (RFC 6962 key ID, or the signed-note key ID for Rekor v2). */
  logId: Uint8Array;
  /** Start of the key's validity: when it was generated. */
  start: Date;
  /** End of its validity: when the log (a retired shard) stopped taking entries. */
  end?: Date;
}

/** A CA or TSA: its chain and where it lives. */
export interface AuthorityDescription {
  uri: string;
  /** DER certificates: the CA's issuing certificate first and the root last; a TSA's signing certificate first. */
  chain: Uint8Array[];
  start: Date;
  commonName: string;
}

/** Everything the server publishes for clients; any service may be absent (not yet composed or turned off). */
export interface TrustDescription {
  organization: string;
  /** Scheme-less operator name written into the signing config. */
  operator: string;
  ca?: AuthorityDescription;
  ctlog?: LogDescription;
  rekorV1?: LogDescription;
  rekorV2?: LogDescription;
  /** Earlier Rekor v2 shards, retired for writes: still trusted for what they logged before their end. */
  rekorV2Retired?: LogDescription[];
  tsa?: AuthorityDescription;
  /** OIDC issuer URLs clients may use for interactive login (the dev IdP). */
  oidcIssuers: { url: string; start: Date }[];
}

function logInstance(log: LogDescription): TransparencyLogInstance {
  return {
    baseUrl: log.baseUrl,
    hashAlgorithm: HashAlgorithmValue.SHA2_256,
    publicKey: {
      rawBytes: publicKeyDer(log.publicKey),
      keyDetails: keyDetailsForKey(describeKey(log.publicKey), 'pure'),
      validFor: { start: log.start, end: log.end },
    },
    logId: { keyId: Buffer.from(log.logId) },
    // Left out on purpose: sigstore-js would use it instead of logId (protocols §10.1).
    checkpointKeyId: undefined,
    operator: '',
  };
}

export function buildTrustedRoot(d: TrustDescription): TrustedRoot {
  const authority = (a: AuthorityDescription) => ({
    subject: { organization: d.organization, commonName: a.commonName },
    uri: a.uri,
    certChain: { certificates: a.chain.map((der) => ({ rawBytes: Buffer.from(der) })) },
    validFor: { start: a.start, end: undefined },
    operator: '',
  });
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [d.rekorV1, ...(d.rekorV2Retired ?? []), d.rekorV2].filter((l): l is LogDescription => l !== undefined).map(logInstance),
    certificateAuthorities: d.ca ? [authority(d.ca)] : [],
    ctlogs: d.ctlog ? [logInstance(d.ctlog)] : [],
    timestampAuthorities: d.tsa ? [authority(d.tsa)] : [],
  };
}

export function buildSigningConfig(d: TrustDescription): SigningConfig {
  const service = (url: string, majorApiVersion: number, start: Date): Service => ({
    url,
    majorApiVersion,
    validFor: { start, end: undefined },
    operator: d.operator,
  });
  const rekorTlogUrls: Service[] = [];
  // Newest API first: clients that support v2 pick it, older ones fall back to v1.
  if (d.rekorV2) rekorTlogUrls.push(service(d.rekorV2.baseUrl, 2, d.rekorV2.start));
  if (d.rekorV1) rekorTlogUrls.push(service(d.rekorV1.baseUrl, 1, d.rekorV1.start));
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: d.ca ? [service(d.ca.uri, 1, d.ca.start)] : [],
    oidcUrls: d.oidcIssuers.map((o) => service(o.url, 1, o.start)),
    rekorTlogUrls,
    rekorTlogConfig: { selector: ServiceSelectorValue.ANY, count: 0 },
    tsaUrls: d.tsa ? [service(d.tsa.uri, 1, d.tsa.start)] : [],
    tsaConfig: { selector: ServiceSelectorValue.ANY, count: 0 },
  };
}

export const TRUSTED_ROOT_FILE = 'trusted_root.json';
export const SIGNING_CONFIG_FILE = 'signing_config.json';

/** Writes DIR/trusted_root.json and DIR/signing_config.json (public, so 0644), atomically. Returns their paths. */
export function writeTrustFiles(dataDir: string, d: TrustDescription): string[] {
  const files: [string, unknown][] = [
    [join(dataDir, TRUSTED_ROOT_FILE), serializeTrustedRoot(buildTrustedRoot(d))],
    [join(dataDir, SIGNING_CONFIG_FILE), serializeSigningConfig(buildSigningConfig(d))],
  ];
  for (const [path, json] of files) writePublic(path, JSON.stringify(json, null, 2) + '\n');
  return files.map(([p]) => p);
}

/** What the per-service PEM files are called: `<service>.pub.pem` (SPKI) and `<service>.chain.pem` (leaf first). */
const SERVICE_PEM = /^[a-z0-9-]+\.(pub|chain)\.pem$/;

/**
 * Writes each service's public key as SPKI PEM beside the trust files (`fulcio.pub.pem`,
 * `ctlog.pub.pem`, `rekor.pub.pem`, `rekor-v2.pub.pem`, `tsa.pub.pem`, and
 * `rekor-v2-retired-N.pub.pem` for retired shards, oldest first), plus the CA's and the
 * TSA's certificate chains (`fulcio.chain.pem`, `tsa.chain.pem`): the inputs of
 * `trusted-root create`, to rebuild or audit trusted_root.json by hand. Rewritten on every
 * start; a file of a service no longer served is removed. Returns the paths written.
 */
export function writePublicKeyFiles(dataDir: string, d: TrustDescription): string[] {
  const files = new Map<string, string>();
  const spkiPem = (key: KeyObject) => pemEncode('PUBLIC KEY', publicKeyDer(key));
  const authority = (name: string, a: AuthorityDescription | undefined) => {
    if (!a || a.chain.length === 0) return;
    files.set(`${name}.pub.pem`, spkiPem(new X509Certificate(Buffer.from(a.chain[0]!)).publicKey));
    files.set(`${name}.chain.pem`, a.chain.map((c) => pemEncode('CERTIFICATE', c)).join(''));
  };
  const log = (name: string, l: LogDescription | undefined) => {
    if (l) files.set(`${name}.pub.pem`, spkiPem(l.publicKey));
  };
  authority('fulcio', d.ca);
  log('ctlog', d.ctlog);
  log('rekor', d.rekorV1);
  log('rekor-v2', d.rekorV2);
  (d.rekorV2Retired ?? []).forEach((l, i) => log(`rekor-v2-retired-${i + 1}`, l));
  authority('tsa', d.tsa);
  for (const [name, pem] of files) writePublic(join(dataDir, name), pem);
  for (const name of readdirSync(dataDir)) {
    if (SERVICE_PEM.test(name) && !files.has(name)) unlinkSync(join(dataDir, name));
  }
  return [...files.keys()].map((name) => join(dataDir, name));
}

/** Public files (0644), replaced atomically so a reader never sees half of one. */
function writePublic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644, flush: true });
  renameSync(tmp, path);
}
