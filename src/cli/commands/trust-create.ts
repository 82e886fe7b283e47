// Implementation of `keyless signing-config create` and `keyless trusted-root create`
// (loaded lazily by ./trust.ts). Flag values are comma-separated key=value lists, as in
// cosign; every problem with a value is a UsageError (exit status 2).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fsProblem } from '../fs-problem.js';
import { readJsonFile } from '../files.js';
import { dirname, join, basename } from 'node:path';
import { KeylessError } from '../../core/errors.js';
import { parsePublicKey, publicKeyDer, type PublicKeyInfo } from '../../core/keys.js';
import { sha256 } from '../../core/hash.js';
import {
  HashAlgorithmValue,
  keyDetailsForKey,
  SERVICE_SELECTORS,
  SIGNING_CONFIG_MEDIA_TYPE,
  TRUSTED_ROOT_MEDIA_TYPE,
  parseSigningConfig,
  parseTimestamp,
  parseTrustedRoot,
  serializeSigningConfig,
  serializeTrustedRoot,
  type CertificateAuthority,
  type Service,
  type ServiceConfiguration,
  type SigningConfig,
  type TimeRange,
  type TransparencyLogInstance,
  type TrustedRoot,
} from '../../formats/index.js';
import { noteKeyHash } from '../../merkle/index.js';
import { parseCertificatesPem, type Certificate } from '../../x509/index.js';

/** A flag value that cannot be used; the CLI prints it on one line and exits with 2. */
export class UsageError extends KeylessError {
  constructor(message: string) {
    super('USAGE', message, { check: 'usage' });
    this.name = 'UsageError';
  }
}

/** Parses `key=value,key=value` with the allowed keys; each key at most once. */
export function parseKeyValues(
  flag: string,
  value: string,
  required: readonly string[],
  optional: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  if (value.trim() === '') throw new UsageError(`${flag}: empty value`);
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag}: expected key=value, got ${JSON.stringify(part)}`);
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1);
    if (!required.includes(key) && !optional.includes(key)) {
      throw new UsageError(`${flag}: unknown key ${JSON.stringify(key)} (allowed: ${[...required, ...optional].join(', ')})`);
    }
    if (key in out) throw new UsageError(`${flag}: key ${key} given twice`);
    if (v === '') throw new UsageError(`${flag}: ${key} is empty`);
    out[key] = v;
  }
  for (const key of required) if (!(key in out)) throw new UsageError(`${flag}: missing ${key}=`);
  return out;
}

function checkUrl(flag: string, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${flag}: url ${JSON.stringify(url)} is not an absolute URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new UsageError(`${flag}: url must be http or https, got ${parsed.protocol}`);
  return url; // kept exactly as given
}

function time(flag: string, key: string, value: string): Date {
  try {
    return parseTimestamp(value, key);
  } catch {
    throw new UsageError(`${flag}: ${key} ${JSON.stringify(value)} is not an RFC 3339 time (e.g. 2025-01-01T00:00:00Z)`);
  }
}

function validity(flag: string, kv: Record<string, string>, defaultStart?: Date): TimeRange {
  const start = kv['start-time'] !== undefined ? time(flag, 'start-time', kv['start-time']) : defaultStart;
  if (!start) throw new UsageError(`${flag}: missing start-time=`);
  const end = kv['end-time'] !== undefined ? time(flag, 'end-time', kv['end-time']) : undefined;
  if (end && end.getTime() < start.getTime()) throw new UsageError(`${flag}: end-time is before start-time`);
  return end ? { start, end } : { start };
}

function operator(flag: string, value: string | undefined): string {
  if (value === undefined) return '';
  if (/\s/.test(value) || value.includes('://'))
    throw new UsageError(`${flag}: operator must be a scheme-less name such as example.com, got ${JSON.stringify(value)}`);
  return value;
}

// ---------------------------------------------------------------------------
// signing-config create

export interface SigningConfigFlags {
  fulcio?: string[];
  rekor?: string[];
  tsa?: string[];
  oidcProvider?: string[];
  rekorConfig?: string;
  tsaConfig?: string;
  outputFile?: string;
  /** cosign's --base-config: its services stand where no flag of that kind is given. */
  baseConfig?: SigningConfig;
  /** cosign's --with-default-services: these services come first, the flags' are added. */
  defaults?: SigningConfig;
  noDefaultFulcio?: boolean;
  noDefaultRekor?: boolean;
  noDefaultTsa?: boolean;
  noDefaultOidc?: boolean;
}

function service(flag: string, value: string): Service {
  const kv = parseKeyValues(flag, value, ['url', 'api-version', 'start-time', 'operator'], ['end-time']);
  const version = kv['api-version']!;
  if (!/^(0|[1-9][0-9]{0,8})$/.test(version))
    throw new UsageError(`${flag}: api-version must be a whole number, got ${JSON.stringify(version)}`);
  return {
    url: checkUrl(flag, kv.url!),
    majorApiVersion: Number(version),
    validFor: validity(flag, kv),
    operator: operator(flag, kv.operator),
  };
}

/** `ANY`, `ALL` or `EXACT:n` (1 ≤ n ≤ the number of services given). */
export function serviceConfiguration(flag: string, value: string | undefined, services: number): ServiceConfiguration | undefined {
  if (value === undefined) return services > 0 ? { selector: SERVICE_SELECTORS.ANY!, count: 0 } : undefined;
  const m = /^(ANY|ALL|EXACT)(?::([0-9]+))?$/i.exec(value.trim());
  if (!m) throw new UsageError(`${flag}: expected ANY, ALL or EXACT:<count>, got ${JSON.stringify(value)}`);
  const selector = m[1]!.toUpperCase();
  if (selector !== 'EXACT') {
    if (m[2] !== undefined) throw new UsageError(`${flag}: only EXACT takes a count`);
    return { selector: SERVICE_SELECTORS[selector]!, count: 0 };
  }
  if (m[2] === undefined) throw new UsageError(`${flag}: EXACT needs a count, e.g. EXACT:2`);
  const count = Number(m[2]);
  if (count < 1 || count > services)
    throw new UsageError(`${flag}: EXACT:${m[2]} needs between 1 and ${services} services (${services} given)`);
  return { selector: SERVICE_SELECTORS.EXACT!, count };
}

export function buildSigningConfigFromFlags(flags: SigningConfigFlags): SigningConfig {
  const given = {
    caUrls: (flags.fulcio ?? []).map((v) => service('--fulcio', v)),
    oidcUrls: (flags.oidcProvider ?? []).map((v) => service('--oidc-provider', v)),
    rekorTlogUrls: (flags.rekor ?? []).map((v) => service('--rekor', v)),
    tsaUrls: (flags.tsa ?? []).map((v) => service('--tsa', v)),
  };
  const dropped = {
    caUrls: flags.noDefaultFulcio,
    oidcUrls: flags.noDefaultOidc,
    rekorTlogUrls: flags.noDefaultRekor,
    tsaUrls: flags.noDefaultTsa,
  };
  // As cosign: a base config's services of a kind are replaced by that kind's flags; the
  // default services are kept and the flags' added to them; --no-default-* drops either.
  const list = (kind: keyof typeof given): Service[] => [
    ...(flags.baseConfig && given[kind].length === 0 && !dropped[kind] ? flags.baseConfig[kind] : []),
    ...(flags.defaults && !dropped[kind] ? flags.defaults[kind] : []),
    ...given[kind],
  ];
  const inherited = (kind: 'rekorTlogConfig' | 'tsaConfig', urls: 'rekorTlogUrls' | 'tsaUrls'): ServiceConfiguration | undefined =>
    dropped[urls] ? undefined : (flags.defaults?.[kind] ?? (given[urls].length === 0 ? flags.baseConfig?.[kind] : undefined));
  const rekorTlogUrls = list('rekorTlogUrls');
  const tsaUrls = list('tsaUrls');
  const config: SigningConfig = {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: list('caUrls'),
    oidcUrls: list('oidcUrls'),
    rekorTlogUrls,
    rekorTlogConfig:
      flags.rekorConfig === undefined && inherited('rekorTlogConfig', 'rekorTlogUrls')
        ? inherited('rekorTlogConfig', 'rekorTlogUrls')
        : serviceConfiguration('--rekor-config', flags.rekorConfig, rekorTlogUrls.length),
    tsaUrls,
    tsaConfig:
      flags.tsaConfig === undefined && inherited('tsaConfig', 'tsaUrls')
        ? inherited('tsaConfig', 'tsaUrls')
        : serviceConfiguration('--tsa-config', flags.tsaConfig, tsaUrls.length),
  };
  if (config.caUrls.length + config.oidcUrls.length + rekorTlogUrls.length + tsaUrls.length === 0) {
    throw new UsageError('give at least one of --fulcio, --rekor, --tsa, --oidc-provider (or --with-default-services, --base-config)');
  }
  // What we write must be what our own parser (and every strict reader) accepts.
  return parseSigningConfig(serializeSigningConfig(config));
}

export function signingConfigCreate(flags: SigningConfigFlags): void {
  writeJsonOutput(serializeSigningConfig(buildSigningConfigFromFlags(flags)), flags.outputFile);
}

// ---------------------------------------------------------------------------
// trusted-root create

export interface TrustedRootFlags {
  fulcio?: string[];
  rekor?: string[];
  ctfe?: string[];
  tsa?: string[];
  out?: string;
  /** cosign's --with-default-services: the default trusted root's authorities and logs come first. */
  defaults?: TrustedRoot;
  noDefaultFulcio?: boolean;
  noDefaultRekor?: boolean;
  noDefaultCtfe?: boolean;
  noDefaultTsa?: boolean;
}

const TIMESTAMPING_EKU = '1.3.6.1.5.5.7.3.8';

function readFile(flag: string, key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new KeylessError('FILE_UNREADABLE', `${flag}: cannot read ${key} ${path}: ${fsProblem(e)}`, { check: 'file' });
  }
}

function readChain(flag: string, path: string): Certificate[] {
  const text = readFile(flag, 'certificate-chain', path);
  let chain: Certificate[];
  try {
    chain = parseCertificatesPem(text, path);
  } catch (e) {
    throw new KeylessError('CERTIFICATE_INVALID', `${flag}: ${path}: ${(e as Error).message}`, { check: 'certificate-chain', cause: e });
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.verifySignedBy(chain[i + 1]!)) {
      throw new KeylessError(
        'CHAIN_ORDER',
        `${flag}: ${path}: certificate ${i + 1} is not signed by certificate ${i + 2} (order must be issuer after subject, root last)`,
        {
          check: 'certificate-chain',
        },
      );
    }
  }
  return chain;
}

function authority(flag: string, value: string, isTsa: boolean): CertificateAuthority {
  const kv = parseKeyValues(flag, value, ['url', 'certificate-chain'], ['start-time', 'end-time', 'operator']);
  const uri = checkUrl(flag, kv.url!);
  const chain = readChain(flag, kv['certificate-chain']!);
  const first = chain[0]!;
  const anchor = chain[chain.length - 1]!;
  if (isTsa) {
    if (!(first.extKeyUsage ?? []).includes(TIMESTAMPING_EKU)) {
      throw new KeylessError(
        'CERTIFICATE_INVALID',
        `${flag}: the first certificate must be the TSA signing certificate (timeStamping EKU), leaf first`,
        { check: 'tsa-eku' },
      );
    }
  } else if (!first.isCA) {
    throw new KeylessError(
      'CERTIFICATE_INVALID',
      `${flag}: the chain must start with the CA that issues signing certificates, not a leaf`,
      { check: 'ca' },
    );
  }
  return {
    subject: { organization: anchor.subject.organization ?? '', commonName: anchor.subject.commonName ?? '' },
    uri,
    certChain: { certificates: chain.map((c) => ({ rawBytes: c.der })) },
    // Default: from when the first certificate (the one that signs) is valid.
    validFor: validity(flag, kv, first.notBefore),
    operator: operator(flag, kv.operator),
  };
}

function logInstance(flag: string, value: string, withOrigin: boolean): TransparencyLogInstance {
  const kv = parseKeyValues(flag, value, ['url', 'public-key', 'start-time'], ['end-time', 'operator', ...(withOrigin ? ['origin'] : [])]);
  const baseUrl = checkUrl(flag, kv.url!);
  const path = kv['public-key']!;
  let info: PublicKeyInfo;
  try {
    info = parsePublicKey(readFile(flag, 'public-key', path), path);
  } catch (e) {
    if (e instanceof KeylessError && e.code === 'FILE_UNREADABLE') throw e;
    throw new KeylessError('PUBLIC_KEY_INVALID', `${flag}: ${(e as Error).message}`, { check: 'public-key', cause: e });
  }
  const spki = publicKeyDer(info.key);
  const origin = kv.origin;
  if (origin !== undefined && (/\s/.test(origin) || origin.includes('+'))) {
    throw new UsageError(`${flag}: origin must be a key name without spaces or "+", got ${JSON.stringify(origin)}`);
  }
  return {
    baseUrl,
    hashAlgorithm: HashAlgorithmValue.SHA2_256,
    publicKey: { rawBytes: spki, keyDetails: keyDetailsForKey(info, 'pure'), validFor: validity(flag, kv) },
    // Rekor v1 and CT: SHA-256 of the DER SPKI. With an origin (a Rekor v2 log):
    // the C2SP signed-note key ID, which is what its entries carry as logId.
    logId: { keyId: origin === undefined ? sha256(spki) : noteKeyHash(origin, info.key) },
    checkpointKeyId: undefined,
    operator: operator(flag, kv.operator),
  };
}

export function buildTrustedRootFromFlags(flags: TrustedRootFlags): TrustedRoot {
  const byStart =
    <T>(start: (x: T) => Date | undefined) =>
    (a: T, b: T) =>
      (start(a)?.getTime() ?? 0) - (start(b)?.getTime() ?? 0);
  const d = flags.defaults;
  const root: TrustedRoot = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [...(d && !flags.noDefaultRekor ? d.tlogs : []), ...(flags.rekor ?? []).map((v) => logInstance('--rekor', v, true))].sort(
      byStart((t) => t.publicKey?.validFor?.start),
    ),
    certificateAuthorities: [
      ...(d && !flags.noDefaultFulcio ? d.certificateAuthorities : []),
      ...(flags.fulcio ?? []).map((v) => authority('--fulcio', v, false)),
    ].sort(byStart((a) => a.validFor?.start)),
    ctlogs: [...(d && !flags.noDefaultCtfe ? d.ctlogs : []), ...(flags.ctfe ?? []).map((v) => logInstance('--ctfe', v, false))].sort(
      byStart((t) => t.publicKey?.validFor?.start),
    ),
    timestampAuthorities: [
      ...(d && !flags.noDefaultTsa ? d.timestampAuthorities : []),
      ...(flags.tsa ?? []).map((v) => authority('--tsa', v, true)),
    ].sort(byStart((a) => a.validFor?.start)),
  };
  if (root.tlogs.length + root.certificateAuthorities.length + root.ctlogs.length + root.timestampAuthorities.length === 0) {
    throw new UsageError('give at least one of --fulcio, --rekor, --ctfe, --tsa (or --with-default-services)');
  }
  return parseTrustedRoot(serializeTrustedRoot(root));
}

export function trustedRootCreate(flags: TrustedRootFlags): void {
  writeJsonOutput(serializeTrustedRoot(buildTrustedRootFromFlags(flags)), flags.out);
}

/** Pretty JSON to a file (written whole, then renamed into place) or to stdout. */
function writeJsonOutput(json: unknown, file: string | undefined): void {
  const text = `${JSON.stringify(json, null, 2)}\n`;
  if (file === undefined || file === '-') {
    process.stdout.write(text);
    return;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new KeylessError('OUTPUT_UNWRITABLE', `cannot write ${file}: ${fsProblem(e)}`, { check: 'file' });
  }
}

/** A signing config file (cosign's --base-config). */
export function readSigningConfigFile(path: string): SigningConfig {
  try {
    return parseSigningConfig(readJsonFile(path, 'signing config'));
  } catch (e) {
    if (e instanceof KeylessError && e.code === 'FILE_UNREADABLE') throw e;
    throw new UsageError(`--base-config ${path} is not a signing config: ${(e as Error).message}`);
  }
}

/** cosign's default services: the TUF cache's signing config, else the public-good instance's. */
export async function defaultSigningConfig(): Promise<SigningConfig> {
  const { resolveTrust } = await import('../trust-resolution.js');
  const { path } = await resolveTrust('signing-config', undefined);
  if (path !== undefined) return readSigningConfigFile(path);
  const { PUBLIC_GOOD_SIGNING_CONFIG } = await import('../../sign/index.js');
  return parseSigningConfig({ mediaType: SIGNING_CONFIG_MEDIA_TYPE, ...PUBLIC_GOOD_SIGNING_CONFIG });
}

/** The default trusted root: the TUF cache's, else the built-in public-good one. */
export async function defaultTrustedRoot(): Promise<TrustedRoot> {
  const { resolveTrust } = await import('../trust-resolution.js');
  const { path } = await resolveTrust('trusted-root', undefined);
  if (path !== undefined) return parseTrustedRoot(readJsonFile(path, 'trusted root'));
  const { PRODUCTION_TRUSTED_ROOT } = await import('../../verify/index.js');
  return parseTrustedRoot(PRODUCTION_TRUSTED_ROOT);
}
