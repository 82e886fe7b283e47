// The image commands' implementation: flags and environment in, the image library out,
// one line per image on stderr (sign) or stdout (verify, tree).
import { readFileSync, statSync } from 'node:fs';
import { homedir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { KeylessError } from '../../core/errors.js';
import {
  RegistryClient,
  parseReference,
  formatReference,
  dockerConfigCredentials,
  chainCredentials,
  type CredentialSource,
  type ImageReference,
  type Repository,
} from '../../registry/index.js';
import {
  resolveTargets,
  signImages,
  checkLegacyServices,
  verifyImage,
  verificationFailure,
  imageTree,
  type ImageVerification,
  type VerifiedSignature,
} from '../../image/index.js';
import { KeylessSigner, resolvePredicateType, writeFileAtomic, SignError } from '../../sign/index.js';
import { prepare, getToken, tokenCheckOf, type IdentityFlags, type ServiceFlags } from '../../sign/commands.js';
import { policyFromOptions, UsageError, type VerifyCommandOptions } from '../../verify/command.js';
import { compilePolicy } from '../../verify/index.js';
import { expandPredicateType } from '../../formats/index.js';
import { parseDuration } from './sign.js';

interface RegistryFlags {
  registryUsername?: string;
  registryPassword?: string;
  registryToken?: string;
  allowHttpRegistry?: boolean;
  allowInsecureRegistry?: boolean;
  timeout?: string;
}

type SignFlags = IdentityFlags &
  ServiceFlags &
  RegistryFlags & {
    annotations?: string[];
    recursive?: boolean;
    newBundleFormat?: string | boolean;
    upload?: string | boolean;
    bundle?: string;
  };

const MAX_PREDICATE_BYTES = 16 * 1024 * 1024;
const MAX_TRUSTED_ROOT_BYTES = 16 * 1024 * 1024;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function usage(message: string): UsageError {
  return new UsageError(message);
}

function bool(v: string | boolean | undefined, flag: string): boolean {
  if (v === undefined || v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw usage(`${flag} must be true or false`);
}

/** `-a key=value` pairs. */
function annotationsOf(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw usage(`annotation ${JSON.stringify(p)} is not key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

function references(images: string[]): ImageReference[] {
  return images.map((i) => {
    try {
      return parseReference(i);
    } catch (e) {
      throw usage((e as Error).message);
    }
  });
}

/** COSIGN_REPOSITORY / KEYLESS_REPOSITORY: signatures live in another repository. */
function signatureRepository(): Repository | undefined {
  const value = process.env.KEYLESS_REPOSITORY?.trim() || process.env.COSIGN_REPOSITORY?.trim();
  if (!value) return undefined;
  let r: ImageReference;
  try {
    r = parseReference(value);
  } catch (e) {
    throw usage(`COSIGN_REPOSITORY: ${(e as Error).message}`);
  }
  if (r.digest || (r.tag && r.tag !== 'latest') || value.includes('@'))
    throw usage(`COSIGN_REPOSITORY ${JSON.stringify(value)} must name a repository, without tag or digest`);
  return { registry: r.registry, repository: r.repository };
}

function registryClient(flags: RegistryFlags): RegistryClient {
  const sources: CredentialSource[] = [];
  if (flags.registryToken !== undefined) {
    const token = flags.registryToken;
    sources.push(async () => ({ kind: 'bearer', token }));
  } else if (flags.registryUsername !== undefined || flags.registryPassword !== undefined) {
    if (flags.registryUsername === undefined || flags.registryPassword === undefined)
      throw usage('give both --registry-username and --registry-password');
    const c = { kind: 'basic' as const, username: flags.registryUsername, password: flags.registryPassword };
    sources.push(async () => c);
  }
  const dockerDir = process.env.DOCKER_CONFIG?.trim() || join(homedir(), '.docker');
  sources.push(dockerConfigCredentials(dockerDir));
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout);
  return new RegistryClient({
    credentials: chainCredentials(...sources),
    allowHttp: flags.allowHttpRegistry === true,
    allowInsecure: flags.allowInsecureRegistry === true,
    timeoutMs,
  });
}

function name(r: ImageReference): string {
  return `${r.registry}/${r.repository}`;
}

/** `keyless sign` and `keyless attest`. */
export async function signImageCommand(images: string[], flags: SignFlags, attest?: { predicate: string; type: string }): Promise<void> {
  const refs = references(images);
  const layout = bool(flags.newBundleFormat, '--new-bundle-format') ? 'referrer' : 'legacy';
  const upload = bool(flags.upload, '--upload');
  const annotations = annotationsOf(flags.annotations);
  if (!upload && flags.bundle === undefined) throw usage('--upload=false needs --bundle FILE (the signature has to go somewhere)');
  if (flags.bundle !== undefined && (refs.length > 1 || flags.recursive))
    throw usage('--bundle takes the bundle of one image: give one IMAGE without --recursive');
  let attestation: { predicateType: string; predicate: unknown } | undefined;
  if (attest) {
    const predicateType = resolvePredicateType(attest.type);
    attestation = { predicateType, predicate: readPredicate(attest.predicate) };
  }
  const signatureRepo = signatureRepository();
  const setup = prepare(flags, refs.length >= 16 || flags.recursive ? Math.max(1, Math.min(4, availableParallelism() - 1)) : 0);
  if (layout === 'legacy') checkLegacyServices(setup.services);
  const client = registryClient(flags);
  const signer = new KeylessSigner({ services: setup.services, getToken: () => getToken(flags, setup), tokenCheck: tokenCheckOf(flags) });
  try {
    // Registry problems show before an identity token is asked for.
    const targets = await resolveTargets(client, refs, flags.recursive === true);
    setImmediate(() => setup.verifier.warm());
    const signatures = await signImages(
      client,
      signer,
      setup.verifier,
      () => signer.certificate?.chain ?? [],
      targets,
      { layout, annotations, attestation, signatureRepository: signatureRepo, upload },
      (s) => {
        const r = s.target.reference;
        const from = r.digest ? '' : ` (tag ${r.tag})`;
        const where = !s.pushed
          ? 'not pushed (--upload=false)'
          : s.pushed.tag
            ? `pushed to ${name({ ...r, ...s.pushed.repository })}:${s.pushed.tag}`
            : `pushed referrer ${s.pushed.manifestDigest}${s.pushed.via === 'fallback' ? ' (referrers fallback tag)' : ''}`;
        log(`${attest ? 'Attested' : 'Signed'} ${name(r)}@${s.target.descriptor.digest}${from}: ${where}`);
      },
    );
    if (flags.bundle !== undefined) {
      writeFileAtomic(flags.bundle, `${signatures[0]?.bundleText}\n`);
      log(`Wrote bundle to ${flags.bundle}`);
    }
  } finally {
    signer.dispose();
    await setup.verifier.close();
  }
}

function readPredicate(path: string): unknown {
  let text: string;
  try {
    if (statSync(path).size > MAX_PREDICATE_BYTES)
      throw new SignError('PREDICATE_INVALID', `predicate ${path} is larger than ${MAX_PREDICATE_BYTES} bytes`, { check: 'predicate' });
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new SignError('FILE_UNREADABLE', `cannot read predicate ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      check: 'predicate',
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SignError('PREDICATE_INVALID', `predicate ${path} is not JSON (${(e as Error).message})`, { check: 'predicate' });
  }
}

type VerifyFlags = Omit<VerifyCommandOptions, 'bundle'> & RegistryFlags & { annotations?: string[]; output?: string; verbose?: boolean };

/** `keyless verify` / `verify-attestation`: 0 when at least one signature verifies, 1 otherwise. */
export async function verifyImageCommand(image: string, flags: VerifyFlags, kind: 'signature' | 'attestation'): Promise<number> {
  const [ref] = references([image]) as [ImageReference];
  const policy = policyFromOptions({ ...flags, bundle: '' }, false);
  try {
    compilePolicy(policy);
  } catch (e) {
    throw usage((e as Error).message);
  }
  const required = annotationsOf(flags.annotations);
  const trustedRoot = flags.trustedRoot === undefined ? undefined : readTrustedRoot(flags.trustedRoot);
  const client = registryClient(flags);
  const [target] = await resolveTargets(client, [ref], false);
  const v = await verifyImage(client, target!, policy, {
    kind,
    annotations: required,
    trustedRoot,
    signatureRepository: signatureRepository(),
    predicateType: kind === 'attestation' && flags.type !== undefined ? expandPredicateType(flags.type) : undefined,
  });
  if (flags.verbose) report(v);
  if (v.verified.length === 0) {
    log(`error: ${verificationFailure(v, name(ref)).message}`.replace(/[\r\n]+/g, ' '));
    return 1;
  }
  if (flags.output === 'json') {
    process.stdout.write(`${JSON.stringify(v.verified.map(summary), null, 2)}\n`);
  } else {
    for (const s of v.verified) process.stdout.write(`${line(ref, s)}\n`);
  }
  return 0;
}

function summary(s: VerifiedSignature): Record<string, unknown> {
  return {
    digest: s.digest,
    identity: s.identity,
    issuer: s.issuer,
    signingTime: s.signingTime,
    logIndex: s.logIndex,
    annotations: s.annotations,
    layout: s.layout,
    source: s.source,
    ...(s.predicateType ? { predicateType: s.predicateType } : {}),
  };
}

function line(ref: ImageReference, s: VerifiedSignature): string {
  const who = s.identity ? `${s.identity} (issuer ${s.issuer})` : 'the given key';
  const ann = Object.entries(s.annotations)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `Verified OK: ${name(ref)}@${s.digest} signed by ${who}${s.signingTime ? ` at ${s.signingTime}` : ''}${s.logIndex !== undefined ? `, log index ${s.logIndex}` : ''}${s.predicateType ? `, predicate ${s.predicateType}` : ''}${ann ? `, annotations ${ann}` : ''} [${s.layout}]`;
}

function report(v: ImageVerification): void {
  const n = v.verified.length + v.failed.length;
  log(
    `${n} candidate(s) for ${v.target.descriptor.digest}: ${v.verified.length} verified, ${v.failed.filter((c) => !c.skipped).length} failed, ${v.failed.filter((c) => c.skipped).length} skipped`,
  );
  for (const s of v.verified) log(`  verified: ${s.source}`);
  for (const c of v.failed) log(`  ${c.skipped ? 'skipped' : 'failed'}: ${c.source}: ${c.reason}`.replace(/[\r\n]+/g, ' '));
}

function readTrustedRoot(path: string): string {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new KeylessError('FILE_UNREADABLE', `trusted root ${path} is not a regular file`, { check: 'input' });
    if (st.size > MAX_TRUSTED_ROOT_BYTES)
      throw new KeylessError('INPUT_TOO_LARGE', `trusted root ${path} is larger than ${MAX_TRUSTED_ROOT_BYTES} bytes`, { check: 'input' });
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new KeylessError(
      'FILE_UNREADABLE',
      `cannot read trusted root ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { check: 'input' },
    );
  }
}

/** `keyless tree IMAGE`. */
export async function treeCommand(image: string, flags: RegistryFlags & { output?: string }): Promise<void> {
  const [ref] = references([image]) as [ImageReference];
  const client = registryClient(flags);
  const [target] = await resolveTargets(client, [ref], false);
  const repo = signatureRepository() ?? ref;
  const tree = await imageTree(client, { registry: repo.registry, repository: repo.repository }, target!.descriptor.digest);
  if (flags.output === 'json') {
    process.stdout.write(
      `${JSON.stringify({ image: `${name(ref)}@${target!.descriptor.digest}`, mediaType: target!.descriptor.mediaType, referrersVia: tree.via, attached: tree.entries }, null, 2)}\n`,
    );
    return;
  }
  const out: string[] = [
    `${formatReference({ ...ref, tag: undefined, digest: target!.descriptor.digest })} (${target!.descriptor.mediaType})`,
  ];
  if (tree.entries.length === 0) out.push('└── nothing attached');
  tree.entries.forEach((e, i) => {
    const branch = i === tree.entries.length - 1 ? '└──' : '├──';
    if (e.layout === 'legacy')
      out.push(`${branch} ${e.kind}s (legacy tag ${e.tag}): ${e.layers?.length ?? 0} layer(s) ${e.layers?.join(' ') ?? ''}`.trimEnd());
    else
      out.push(
        `${branch} ${e.kind} ${e.digest} (${e.artifactType ?? 'unknown type'}${e.predicateType ? `, predicate ${e.predicateType}` : ''}; via ${tree.via === 'api' ? 'referrers API' : 'fallback tag'})`,
      );
  });
  process.stdout.write(`${out.join('\n')}\n`);
}
