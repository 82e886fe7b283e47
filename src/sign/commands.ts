// What `keyless sign-blob`, `attest-blob`, `sign-bundle` and `token inspect` do, behind
// the flag parsing in src/cli/commands/{sign,token}.ts.
import { accessSync, constants as fsConstants, createReadStream, readFileSync, statSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { SignError, IdentityError } from './errors.js';
import { selectServices, type SigningConfigLike, type SelectedServices } from './services.js';
import { obtainIdentityToken, TOKEN_SOURCES, type TokenSource } from './token-sources.js';
import { KeylessSigner, type SignResult } from './signer.js';
import type { TokenCheckOptions } from './token.js';
import { writeFileAtomic } from './write.js';
import { buildStatement, IN_TOTO_PAYLOAD_TYPE, resolvePredicateType } from './statement.js';
import {
  PUBLIC_GOOD_SIGNING_CONFIG, SIGNING_CONFIG_ENV, TRUSTED_ROOT_ENV, readJsonFile, withOverrides,
} from './config.js';
import { loadSigningConfig } from './signing-config.js';
import { parseTrustedRoot } from '../formats/index.js';
import { createSelfVerifier, type SelfVerifier } from './self-verify.js';

export interface IdentityFlags {
  identityToken?: string;
  oidcProvider?: string;
  fulcioAuthFlow?: string;
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecretFile?: string;
  oidcRedirectUrl?: string;
  browserCommand?: string;
}

export interface ServiceFlags {
  signingConfig?: string;
  trustedRoot?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  rekorVersion?: string;
  timestampServerUrl?: string;
}

export interface SignBlobFlags extends IdentityFlags, ServiceFlags {
  bundle?: string;
  outputDir?: string;
}

export interface AttestBlobFlags extends IdentityFlags, ServiceFlags {
  bundle?: string;
  predicate: string;
  type: string;
}

/** Artifacts larger than this are signed from a stream instead of read into memory. */
export const STREAM_THRESHOLD_BYTES = 64 * 1024 * 1024;

/** Batches of at least this many files verify their bundles in worker threads. */
const POOL_THRESHOLD = 16;

/** One verification thread per core beyond the main thread's (at least one). */
function verifyThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** How many artifacts are in flight at once in a batch (each waits on its log and TSA calls). */
export const BATCH_CONCURRENCY = 256;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** `keyless sign-blob FILE... (--bundle OUT | --output-dir DIR)`. */
export async function signBlobCommand(files: string[], flags: SignBlobFlags): Promise<void> {
  const outputs = planOutputs(files, flags);
  const artifacts = files.map((f) => checkReadable(f));
  const setup = prepare(flags, files.length >= POOL_THRESHOLD ? verifyThreads() : 0);
  const signer = new KeylessSigner({ services: setup.services, getToken: () => getToken(flags, setup), tokenCheck: tokenCheckOf(flags) });
  try {
    if (files.length === 1) {
      const path = artifacts[0] as string;
      // Large artifacts are streamed, never held in memory; then only their digest is verified.
      const large = statSync(path).size > STREAM_THRESHOLD_BYTES;
      const bytes = large ? undefined : readArtifact(path);
      const pending: Promise<SignResult & { digest?: Buffer }> = bytes ? signer.signMessage(bytes) : signer.signFile(path);
      // The trust material is parsed while the CA, log and TSA answer.
      setImmediate(() => setup.verifier.warm());
      const result = await pending;
      signer.dispose(); // the key's work is done: drop it before verifying and writing
      // The exact text that is written is the one verified.
      const text = JSON.stringify(result.bundle);
      await setup.verifier.verify(text, bytes ?? { sha256: result.digest as Buffer }, result);
      writeFileAtomic(outputs[0] as string, `${text}\n`);
      log(`Wrote bundle to ${outputs[0]}`);
      return;
    }
    // One certificate (reused while valid), many artifacts in flight. The first failure
    // stops new work; what is in flight settles before the error is reported.
    let next = 0;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < files.length && failure === undefined; i = next++) {
        try {
          const path = artifacts[i] as string;
          let result: SignResult;
          let checked: Uint8Array | { sha256: Uint8Array };
          if (statSync(path).size > STREAM_THRESHOLD_BYTES) {
            const streamed = await signer.signFile(path);
            result = streamed;
            checked = { sha256: streamed.digest };
          } else {
            // Synchronous on purpose: for small files fs/promises costs more than the read.
            checked = readArtifact(path);
            result = await signer.signMessage(checked);
          }
          // The text goes to the verification thread as a string (cheaper to post than the
          // object), and the exact text verified is the one written.
          const text = JSON.stringify(result.bundle);
          await setup.verifier.verify(text, checked, result);
          if (failure === undefined) writeFileAtomic(outputs[i] as string, `${text}\n`, false);
        } catch (e) {
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, files.length) }, worker));
    if (failure !== undefined) throw failure;
    log(`Wrote ${files.length} bundles to ${flags.outputDir}`);
  } finally {
    signer.dispose();
    await setup.verifier.close();
  }
}

/** `keyless attest-blob FILE --predicate P --type T --bundle OUT`: an in-toto v1 statement in DSSE. */
export async function attestBlobCommand(file: string, flags: AttestBlobFlags): Promise<void> {
  if (!flags.bundle) throw usage('attest-blob needs --bundle FILE');
  const predicateType = resolvePredicateType(flags.type);
  const artifactSha256 = await fileSha256(checkReadable(file));
  const predicateText = readArtifact(checkReadable(flags.predicate), 'predicate');
  let predicate: unknown;
  try {
    predicate = JSON.parse(predicateText.toString('utf8'));
  } catch (e) {
    throw new SignError('PREDICATE_INVALID', `predicate ${flags.predicate} is not JSON (${(e as Error).message})`, { check: 'predicate' });
  }
  const payload = buildStatement(file, artifactSha256, predicateType, predicate);
  await signDsseTo(payload, flags.bundle, flags, artifactSha256);
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
    throw new SignError('STAGING_UNAVAILABLE', '--staging needs the staging instance, which Keyless cannot reach (no network access); pass --signing-config and --trusted-root for the instance to use');
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

async function signDsseTo(payload: Buffer, bundlePath: string, flags: IdentityFlags & ServiceFlags, subjectDigest: Buffer | undefined): Promise<void> {
  checkOutputDir(bundlePath);
  const setup = prepare(flags);
  const signer = new KeylessSigner({ services: setup.services, getToken: () => getToken(flags, setup), tokenCheck: tokenCheckOf(flags) });
  try {
    const pending = signer.signDsse(payload, IN_TOTO_PAYLOAD_TYPE);
    setImmediate(() => setup.verifier.warm());
    const result = await pending;
    signer.dispose();
    const text = JSON.stringify(result.bundle);
    await setup.verifier.verifyDsse(text, payload, subjectDigest, result);
    writeFileAtomic(bundlePath, `${text}\n`);
    log(`Wrote bundle to ${bundlePath}`);
  } finally {
    signer.dispose();
  }
}

export interface Setup {
  services: SelectedServices;
  verifier: SelfVerifier;
}

/** Services and trust, resolved before any token is asked for or any network call is made. */
export function prepare(flags: ServiceFlags, verifyThreads = 0): Setup {
  const configPath = flags.signingConfig ?? nonEmpty(process.env[SIGNING_CONFIG_ENV]);
  const rootPath = flags.trustedRoot ?? nonEmpty(process.env[TRUSTED_ROOT_ENV]);
  const base: SigningConfigLike = configPath ? loadSigningConfig(configPath) : PUBLIC_GOOD_SIGNING_CONFIG;
  const rekorVersion = flags.rekorVersion === undefined ? undefined : Number(flags.rekorVersion);
  if (rekorVersion !== undefined && rekorVersion !== 1 && rekorVersion !== 2) throw usage('--rekor-version must be 1 or 2');
  const overridden = flags.fulcioUrl || flags.rekorUrl || flags.timestampServerUrl;
  const config = withOverrides(base, { fulcioUrl: flags.fulcioUrl, rekorUrl: flags.rekorUrl, rekorVersion, timestampServerUrl: flags.timestampServerUrl });
  const services = selectServices(config);
  const publicGood = !configPath && !overridden;
  if (!rootPath && !publicGood) {
    throw new SignError('TRUSTED_ROOT_REQUIRED', `the bundle is verified before it is written, which needs the instance's trusted root: pass --trusted-root FILE or set ${TRUSTED_ROOT_ENV}`, { check: 'trusted-root' });
  }
  const trustedRoot = rootPath ? readJsonFile(rootPath, 'trusted root') : undefined;
  // A broken trusted root must stop us before anything is logged, not after.
  if (trustedRoot !== undefined) parseTrustedRoot(trustedRoot);
  return { services, verifier: createSelfVerifier(trustedRoot, { threads: verifyThreads }) };
}

export async function getToken(flags: IdentityFlags, setup: Setup): Promise<string> {
  const source = tokenSource(flags);
  let clientSecret: string | undefined;
  if (flags.oidcClientSecretFile) {
    try {
      clientSecret = readFileSync(flags.oidcClientSecretFile, 'utf8').trim();
    } catch (e) {
      throw new IdentityError('FILE_UNREADABLE', `cannot read --oidc-client-secret-file ${flags.oidcClientSecretFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const { jwt } = await obtainIdentityToken({
    source,
    identityToken: flags.identityToken,
    oidcIssuer: flags.oidcIssuer ?? setup.services.oidc?.url,
    oidcClientId: flags.oidcClientId,
    oidcClientSecret: clientSecret,
    oidcRedirectUrl: flags.oidcRedirectUrl,
    browserCommand: flags.browserCommand ?? nonEmpty(process.env.BROWSER) ?? (process.stdin.isTTY === true ? systemOpener() : undefined),
    interactive: process.stdin.isTTY === true,
    canOpenBrowser: canOpenBrowser(),
    log,
  });
  return jwt;
}

/** `--oidc-issuer` names the provider the token must come from, whatever its source. */
export function tokenCheckOf(flags: IdentityFlags): TokenCheckOptions {
  return flags.oidcIssuer ? { issuer: flags.oidcIssuer } : {};
}

/** `--oidc-provider` names a source; cosign's `--fulcio-auth-flow normal|device|token` maps onto them. */
function tokenSource(flags: IdentityFlags): TokenSource | undefined {
  if (flags.oidcProvider !== undefined) {
    if (!(TOKEN_SOURCES as readonly string[]).includes(flags.oidcProvider)) throw usage(`--oidc-provider must be one of ${TOKEN_SOURCES.join(', ')}`);
    return flags.oidcProvider as TokenSource;
  }
  switch (flags.fulcioAuthFlow) {
    case undefined: return flags.identityToken !== undefined ? 'identity-token' : undefined;
    case 'normal': return 'browser';
    case 'device': return 'device';
    case 'token': return 'identity-token';
    default: throw usage('--fulcio-auth-flow must be normal, device or token');
  }
}

/** The desktop's URL opener, for a person at a terminal (the URL is printed either way). */
function systemOpener(): string | undefined {
  if (process.platform === 'darwin') return 'open';
  if (process.platform === 'linux' && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) return 'xdg-open';
  return undefined;
}

function canOpenBrowser(): boolean {
  if (process.env.BROWSER) return true;
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** Where each artifact's bundle goes; refuses ambiguous or clashing outputs before any work. */
function planOutputs(files: string[], flags: SignBlobFlags): string[] {
  if (files.length === 0) throw usage('sign-blob needs at least one FILE');
  if (flags.outputDir !== undefined) {
    if (flags.bundle !== undefined) throw usage('use either --bundle (one file) or --output-dir (several files), not both');
    let isDir = false;
    try {
      isDir = statSync(flags.outputDir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new SignError('OUTPUT_UNWRITABLE', `--output-dir ${flags.outputDir} is not a directory`, { check: 'output-dir' });
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
  if (!existsSync(dir)) throw new SignError('OUTPUT_UNWRITABLE', `cannot write ${path}: directory ${dir} does not exist`, { check: 'bundle' });
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
    throw new SignError('FILE_UNREADABLE', `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { check: 'artifact' });
  }
  if (!st.isFile()) throw new SignError('FILE_UNREADABLE', `cannot read ${path}: not a regular file`, { check: 'artifact' });
  return path;
}

/** SHA-256 of a file, streamed (the artifact of an attestation may be any size). */
async function fileSha256(path: string): Promise<Buffer> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (e) {
    throw new SignError('FILE_UNREADABLE', `cannot read artifact ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { check: 'artifact' });
  }
  return hash.digest();
}

function readArtifact(path: string, what = 'artifact'): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SignError('FILE_UNREADABLE', `cannot read ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { check: what });
  }
}

function usage(message: string): SignError {
  return new SignError('USAGE', message, { check: 'usage' });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

export type { SignResult };
