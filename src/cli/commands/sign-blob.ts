// What `keyless sign-blob`, `attest-blob` and `sign-bundle` do (loaded lazily by ./sign.ts):
// files, flags and the environment in; the library's signBlobs / signStatement do the
// signing; bundles go to files through an atomic writer.
import { accessSync, constants as fsConstants, createReadStream, mkdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { fsProblem } from '../fs-problem.js';
import { printable } from '../printable.js';
import { bundleReport } from './bundle-inspect.js';
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import {
  SignError,
  IdentityError,
  selectServices,
  signBlobs,
  signStatement,
  buildStatement,
  resolvePredicateType,
  withOverrides,
  PUBLIC_GOOD_SIGNING_CONFIG,
  TOKEN_SOURCES,
  type SigningConfigLike,
  type SelectedServices,
  type TokenSource,
  type TokenCheckOptions,
  type SigningOptions,
  type BlobSource,
} from '../../sign/index.js';
import { leafCertificateDer, parseBundle, parseStatement, parseTrustedRoot } from '../../formats/index.js';
import { loadSigningConfig, readJsonFile, SIGNING_CONFIG_ENV, TRUSTED_ROOT_ENV } from '../files.js';
import { obtainCliToken, nonEmpty } from '../identity.js';
import { fileBundleSink, writeFileAtomic } from '../write.js';
import { progressBar, type Progress } from '../progress.js';

export interface IdentityFlags {
  identityToken?: string;
  oidcProvider?: string;
  fulcioAuthFlow?: string;
  oidcDisableAmbientProviders?: boolean;
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecretFile?: string;
  oidcRedirectUrl?: string;
  browserCommand?: string;
}

export interface ServiceFlags {
  /** cosign's -d: the services used, on stderr. */
  verbose?: boolean;
  signingConfig?: string;
  trustedRoot?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  rekorVersion?: string;
  timestampServerUrl?: string;
}

/** cosign's detached outputs beside the bundle. */
export interface ExtraOutputs {
  outputSignature?: string;
  outputCertificate?: string;
}

export interface SignBlobFlags extends IdentityFlags, ServiceFlags, ExtraOutputs {
  bundle?: string;
  outputDir?: string;
}

export interface AttestBlobFlags extends IdentityFlags, ServiceFlags, ExtraOutputs {
  bundle?: string;
  predicate?: string;
  /** cosign's --statement: a complete in-toto statement, signed as it is. */
  statement?: string;
  /** cosign's --hash: the artifact's SHA-256 (hex), so the artifact itself is not read. */
  hash?: string;
  type: string;
}

/** Artifacts larger than this are signed from a stream instead of read into memory. */
export const STREAM_THRESHOLD_BYTES = 64 * 1024 * 1024;

/** The progress bar of the command running, if any: messages are printed above it. */
let bar: Progress | undefined;

const log = (line: string): void => {
  const write = () => process.stderr.write(`${printable(line)}\n`);
  if (bar) bar.above(write);
  else write();
};

/** A bar (bytes) on a terminal for many files or a large one; nothing otherwise. */
function startProgress(label: string, sizes: readonly number[]): Progress | undefined {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.length < 2 && total <= STREAM_THRESHOLD_BYTES) return undefined;
  return progressBar(process.stderr, { label, total, unit: 'bytes' });
}

/** `stream`, counting its bytes on the bar as they are read. */
async function* counted(stream: AsyncIterable<Uint8Array>, progress: Progress | undefined): AsyncIterable<Uint8Array> {
  for await (const chunk of stream) {
    progress?.advance(chunk.length);
    yield chunk;
  }
}

/** `keyless sign-blob FILE... (--bundle OUT | --output-dir DIR)`. */
export async function signBlobCommand(files: string[], flags: SignBlobFlags): Promise<void> {
  const outputs = planOutputs(files, flags);
  const artifacts = files.map((f) => checkReadable(f));
  const options = prepare(flags);
  if (files.length > 1 && (flags.outputSignature || flags.outputCertificate))
    throw usage('--output-signature and --output-certificate take one input file');
  const sink = fileBundleSink(outputs);
  let first: string | undefined;
  const sizes = artifacts.map((p) => statSync(p).size);
  bar = startProgress('signing', sizes);
  try {
    await signBlobs(artifacts.length, (i) => loadArtifact(artifacts[i] as string, bar), options, {
      write: (i, text) => {
        if (i === 0) first = text;
        // A streamed file was counted as it was read.
        if ((sizes[i] as number) <= STREAM_THRESHOLD_BYTES) bar?.advance(sizes[i]);
        return sink.write(i, text);
      },
    });
  } finally {
    bar?.done();
    bar = undefined;
  }
  log(files.length === 1 ? `Wrote bundle to ${outputs[0]}` : `Wrote ${files.length} bundles to ${flags.outputDir}`);
  if (first !== undefined) afterSigning(first, flags);
}

/** Large artifacts are streamed, never held in memory; then only their digest is verified. */
function loadArtifact(path: string, progress?: Progress): BlobSource {
  if (statSync(path).size > STREAM_THRESHOLD_BYTES)
    return { stream: () => counted(createReadStream(path, { highWaterMark: 1 << 20 }), progress) };
  // Synchronous on purpose: for small files fs/promises costs more than the read.
  return { bytes: readArtifact(path) };
}

/** `keyless attest-blob FILE --predicate P --type T --bundle OUT`: an in-toto v1 statement in DSSE. */
export async function attestBlobCommand(file: string | undefined, flags: AttestBlobFlags): Promise<void> {
  if (!flags.bundle) throw usage('attest-blob needs --bundle FILE');
  if ((flags.predicate === undefined) === (flags.statement === undefined)) throw usage('give one of --predicate or --statement');
  if (flags.statement !== undefined) return attestStatement(file, flags.statement, flags.bundle, flags);
  if (file === undefined) throw usage('attest-blob needs the FILE the statement is about (or --statement)');
  const predicateType = resolvePredicateType(flags.type);
  let artifactSha256: Buffer;
  if (flags.hash !== undefined) artifactSha256 = givenSha256(flags.hash);
  else {
    bar = startProgress('hashing', [statSync(checkReadable(file)).size]);
    try {
      artifactSha256 = await fileSha256(file, bar);
    } finally {
      bar?.done();
      bar = undefined;
    }
  }
  const predicateText = readArtifact(checkReadable(flags.predicate as string), 'predicate');
  let predicate: unknown;
  try {
    predicate = JSON.parse(predicateText.toString('utf8'));
  } catch (e) {
    throw new SignError('PREDICATE_INVALID', `predicate ${flags.predicate} is not JSON (${(e as Error).message})`, { check: 'predicate' });
  }
  const payload = buildStatement(file, artifactSha256, predicateType, predicate);
  await signDsseTo(payload, flags.bundle, flags, artifactSha256);
}

/** `--hash`: 64 hex digits (SHA-256, as cosign's statements name it), any case. */
function givenSha256(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw usage(`--hash must be the artifact's SHA-256 as 64 hex digits, got ${JSON.stringify(hex)}`);
  return Buffer.from(hex, 'hex');
}

/**
 * `attest-blob --statement S`: the statement's bytes are the payload. A FILE given too must
 * be one of its subjects (by SHA-256), so a statement about something else is not signed by mistake.
 */
async function attestStatement(file: string | undefined, statementPath: string, bundlePath: string, flags: AttestBlobFlags): Promise<void> {
  const payload = readArtifact(checkReadable(statementPath), 'statement');
  let subjects: { digest: Record<string, string> }[];
  try {
    subjects = parseStatement(payload).subjects;
  } catch (e) {
    throw usage(`--statement ${statementPath} is not an in-toto statement: ${(e as Error).message}`);
  }
  let subjectDigest: Buffer | undefined;
  if (file !== undefined || flags.hash !== undefined) {
    subjectDigest = flags.hash !== undefined ? givenSha256(flags.hash) : await fileSha256(checkReadable(file as string));
    const hex = subjectDigest.toString('hex');
    if (!subjects.some((s) => s.digest.sha256?.toLowerCase() === hex))
      throw usage(`the statement ${statementPath} has no subject with the SHA-256 of ${file ?? '--hash'} (${hex})`);
  }
  log(`Using statement from ${statementPath}`);
  await signDsseTo(payload, bundlePath, flags, subjectDigest);
}

export interface SignBundleFlags {
  staging?: boolean;
  inToto?: boolean;
  identityToken: string;
  bundle: string;
  trustedRoot?: string;
  signingConfig?: string;
}

/** `keyless sign-bundle`, the conformance CLI protocol. */
export async function signBundleCommand(file: string, flags: SignBundleFlags): Promise<void> {
  if (flags.staging) {
    throw new SignError(
      'STAGING_UNAVAILABLE',
      '--staging needs the staging instance, which Keyless cannot reach (no network access); pass --signing-config and --trusted-root for the instance to use',
    );
  }
  const identity: IdentityFlags = { identityToken: flags.identityToken, oidcProvider: 'identity-token' };
  const services: ServiceFlags = { signingConfig: flags.signingConfig, trustedRoot: flags.trustedRoot };
  if (flags.inToto) {
    // The statement's exact bytes are the payload; the subject is what is verified later.
    const statement = readArtifact(checkReadable(file));
    await signDsseTo(statement, flags.bundle, { ...identity, ...services }, undefined);
    return;
  }
  await signBlobCommand([file], { ...identity, ...services, bundle: flags.bundle });
}

/** The summary on stderr (who signed, the certificate's validity, the log entry, the timestamp), and cosign's detached outputs. */
function afterSigning(bundleJson: string, flags: ExtraOutputs): void {
  const bundle = parseBundle(bundleJson);
  const r = bundleReport(bundle);
  const c = r.certificate;
  if (c) log(`Signed as ${c.identity} (issuer ${c.issuer}), certificate valid ${c.notBefore} to ${c.notAfter}`);
  for (const e of r.tlogEntries)
    log(`Logged: ${e.kind} entry ${e.logIndex}${e.integratedTime ? ` at ${e.integratedTime}` : ''} in log ${e.logId.slice(0, 16)}…`);
  for (const t of r.timestamps) if (t.genTime) log(`Timestamped: ${t.genTime} by ${t.authority ?? 'the TSA'}`);
  if (flags.outputSignature) {
    const content = bundle.content;
    const sig = content?.$case === 'messageSignature' ? content.messageSignature.signature : content?.dsseEnvelope.signatures[0]?.sig;
    if (sig) writeFileAtomic(flags.outputSignature, `${Buffer.from(sig).toString('base64')}\n`);
    log(`Wrote signature to ${flags.outputSignature}`);
  }
  if (flags.outputCertificate) {
    const der = leafCertificateDer(bundle);
    if (!der)
      throw new SignError('OUTPUT_UNWRITABLE', '--output-certificate: the bundle carries no certificate', { check: 'output-certificate' });
    const b64 = Buffer.from(der)
      .toString('base64')
      .replace(/.{1,64}/g, '$&\n');
    writeFileAtomic(flags.outputCertificate, `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`);
    log(`Wrote certificate to ${flags.outputCertificate}`);
  }
}

async function signDsseTo(
  payload: Buffer,
  bundlePath: string,
  flags: IdentityFlags & ServiceFlags & ExtraOutputs,
  subjectDigest: Buffer | undefined,
): Promise<void> {
  checkOutputDir(bundlePath);
  const text = await signStatement(payload, { ...prepare(flags), subjectDigest });
  fileBundleSink([bundlePath]).write(0, text);
  log(`Wrote bundle to ${bundlePath}`);
  afterSigning(text, flags);
}

/** Services and trust, resolved before any token is asked for or any network call is made. */
export function prepare(flags: IdentityFlags & ServiceFlags): SigningOptions {
  const configPath = flags.signingConfig ?? nonEmpty(process.env[SIGNING_CONFIG_ENV]);
  const rootPath = flags.trustedRoot ?? nonEmpty(process.env[TRUSTED_ROOT_ENV]);
  const base: SigningConfigLike = configPath ? loadSigningConfig(configPath) : PUBLIC_GOOD_SIGNING_CONFIG;
  const rekorVersion = flags.rekorVersion === undefined ? undefined : Number(flags.rekorVersion);
  if (rekorVersion !== undefined && rekorVersion !== 1 && rekorVersion !== 2) throw usage('--rekor-version must be 1 or 2');
  const overridden = flags.fulcioUrl || flags.rekorUrl || flags.timestampServerUrl;
  const config = withOverrides(base, {
    fulcioUrl: flags.fulcioUrl,
    rekorUrl: flags.rekorUrl,
    rekorVersion,
    timestampServerUrl: flags.timestampServerUrl,
  });
  const services = selectServices(config);
  if (flags.verbose) {
    // cosign's -d: which services this signature will use, before any of them is called.
    log(`debug: signing config ${configPath ?? 'built-in (public-good)'}, trusted root ${rootPath ?? 'built-in'}`);
    log(`debug: CA ${services.ca.url}; identity provider ${services.oidc?.url ?? 'none'}`);
    for (const t of services.tlogs) log(`debug: transparency log ${t.url} (API v${t.majorApiVersion})`);
    for (const t of services.tsas) log(`debug: timestamp authority ${t.url}`);
  }
  const publicGood = !configPath && !overridden;
  if (!rootPath && !publicGood) {
    throw new SignError(
      'TRUSTED_ROOT_REQUIRED',
      `the bundle is verified before it is written, which needs the instance's trusted root: pass --trusted-root FILE or set ${TRUSTED_ROOT_ENV}`,
      { check: 'trusted-root' },
    );
  }
  const trustedRoot = rootPath ? readJsonFile(rootPath, 'trusted root') : undefined;
  // A broken trusted root must stop us before anything is logged, not after.
  if (trustedRoot !== undefined) parseTrustedRoot(trustedRoot);
  return { services, trustedRoot, getToken: () => getToken(flags, services), tokenCheck: tokenCheckOf(flags) };
}

async function getToken(flags: IdentityFlags, services: SelectedServices): Promise<string> {
  const source = tokenSource(flags);
  let clientSecret: string | undefined;
  if (flags.oidcClientSecretFile) {
    try {
      clientSecret = readFileSync(flags.oidcClientSecretFile, 'utf8').trim();
    } catch (e) {
      throw new IdentityError('FILE_UNREADABLE', `cannot read --oidc-client-secret-file ${flags.oidcClientSecretFile} (${fsProblem(e)})`);
    }
  }
  return obtainCliToken({
    source,
    identityToken: flags.identityToken,
    oidcIssuer: flags.oidcIssuer ?? services.oidc?.url,
    oidcClientId: flags.oidcClientId,
    oidcClientSecret: clientSecret,
    oidcRedirectUrl: flags.oidcRedirectUrl,
    browserCommand: flags.browserCommand,
    disableAmbient: flags.oidcDisableAmbientProviders === true,
    log,
  });
}

/** `--oidc-issuer` names the provider the token must come from, whatever its source. */
function tokenCheckOf(flags: IdentityFlags): TokenCheckOptions {
  return flags.oidcIssuer ? { issuer: flags.oidcIssuer } : {};
}

/** `--oidc-provider` names a source; cosign's `--fulcio-auth-flow normal|device|token` maps onto them. */
function tokenSource(flags: IdentityFlags): TokenSource | undefined {
  if (flags.oidcProvider !== undefined) {
    // cosign registers Google's two ways under these names; its help says `google`.
    const name =
      flags.oidcProvider === 'google-workload-identity' || flags.oidcProvider === 'google-impersonate' ? 'google' : flags.oidcProvider;
    if (!(TOKEN_SOURCES as readonly string[]).includes(name) || name === 'client-credentials')
      throw usage(`--oidc-provider must be one of ${TOKEN_SOURCES.filter((s) => s !== 'client-credentials').join(', ')}`);
    return name as TokenSource;
  }
  switch (flags.fulcioAuthFlow) {
    case undefined:
      return flags.identityToken !== undefined ? 'identity-token' : undefined;
    case 'normal':
      return 'browser';
    case 'device':
      return 'device';
    case 'token':
      return 'identity-token';
    case 'client_credentials':
      return 'client-credentials';
    default:
      throw usage('--fulcio-auth-flow must be normal, device, token or client_credentials');
  }
}

/** Where each artifact's bundle goes; refuses ambiguous or clashing outputs before any work. */
function planOutputs(files: string[], flags: SignBlobFlags): string[] {
  if (files.length === 0) throw usage('sign-blob needs at least one FILE');
  if (flags.outputDir !== undefined) {
    if (flags.bundle !== undefined) throw usage('use either --bundle (one file) or --output-dir (several files), not both');
    // Created when missing (as cosign's --output-dir); an existing non-directory is refused.
    try {
      mkdirSync(flags.outputDir, { recursive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new SignError('OUTPUT_UNWRITABLE', `cannot create --output-dir ${flags.outputDir} (${fsProblem(e)})`, {
          check: 'output-dir',
        });
    }
    if (!statSync(flags.outputDir).isDirectory())
      throw new SignError('OUTPUT_UNWRITABLE', `--output-dir ${flags.outputDir} is not a directory`, { check: 'output-dir' });
    checkOutputDir(join(flags.outputDir, 'x'));
    const outs = files.map((f) => join(flags.outputDir as string, `${basename(f)}.sigstore.json`));
    const seen = new Set<string>();
    for (const o of outs) {
      if (seen.has(o)) throw usage(`two files would both write ${o}: give files distinct names`);
      seen.add(o);
    }
    return outs;
  }
  if (files.length > 1) throw usage('several files need --output-dir DIR (one bundle per file)');
  if (flags.bundle === undefined) throw usage('sign-blob needs --bundle FILE (or --output-dir DIR)');
  checkOutputDir(flags.bundle);
  return [flags.bundle];
}

/** The bundle's directory must exist and be writable: found out before anything is logged. */
function checkOutputDir(path: string): void {
  const dir = resolve(path, '..');
  if (!existsSync(dir))
    throw new SignError('OUTPUT_UNWRITABLE', `cannot write ${path}: directory ${dir} does not exist`, { check: 'bundle' });
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch {
    throw new SignError('OUTPUT_UNWRITABLE', `cannot write ${path}: directory ${dir} is not writable`, { check: 'bundle' });
  }
}

/** A regular file we can read; checked up front so a bad path fails before any token or network use. */
function checkReadable(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new SignError('FILE_UNREADABLE', `cannot read ${path} (${fsProblem(e)})`, { check: 'artifact' });
  }
  if (!st.isFile()) throw new SignError('FILE_UNREADABLE', `cannot read ${path}: not a regular file`, { check: 'artifact' });
  return path;
}

/** SHA-256 of a file, streamed (the artifact of an attestation may be any size). */
async function fileSha256(path: string, progress?: Progress): Promise<Buffer> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of counted(createReadStream(path, { highWaterMark: 1 << 20 }), progress)) hash.update(chunk);
  } catch (e) {
    throw new SignError('FILE_UNREADABLE', `cannot read artifact ${path} (${fsProblem(e)})`, { check: 'artifact' });
  }
  return hash.digest();
}

function readArtifact(path: string, what = 'artifact'): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SignError('FILE_UNREADABLE', `cannot read ${what} ${path} (${fsProblem(e)})`, { check: what });
  }
}

function usage(message: string): SignError {
  return new SignError('USAGE', message, { check: 'usage' });
}
