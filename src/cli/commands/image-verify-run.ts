// `keyless verify`, `verify-attestation` and `tree` for images (loaded only when one runs).
// Only the registry side is imported up front: the image's round trips run while the
// verifier loads and the trusted root is resolved.
import { readFileSync, statSync } from 'node:fs';
import { KeylessError } from '../../core/errors.js';
import { formatReference, type ImageReference } from '../../registry/index.js';
import { resolveTargets, type ImageTarget } from '../../image/sign.js';
import { collectCandidates, type Collected } from '../../image/collect.js';
import { imageTree } from '../../image/tree.js';
import type { ImageVerification, VerifiedSignature } from '../../image/verify.js';
import type { VerifyCommandOptions } from './verify-command.js';
import { resolveTrust } from '../trust-resolution.js';
import { annotationsOf, log, name, references, registryClient, signatureRepository, usage, type RegistryFlags } from './image-options.js';

const MAX_TRUSTED_ROOT_BYTES = 16 * 1024 * 1024;

type VerifyFlags = Omit<VerifyCommandOptions, 'bundle'> &
  RegistryFlags & { annotations?: string[]; output?: string; verbose?: boolean; offline?: boolean };

/** `keyless verify` / `verify-attestation`: 0 when at least one signature verifies, 1 otherwise. */
export async function verifyImageCommand(image: string, flags: VerifyFlags, kind: 'signature' | 'attestation'): Promise<number> {
  const [ref] = references([image]) as [ImageReference];
  const required = annotationsOf(flags.annotations);
  const client = registryClient(flags);
  const sigRepo = signatureRepository();
  const repo = sigRepo ?? { registry: ref.registry, repository: ref.repository };
  const fetched = (async (): Promise<{ target: ImageTarget; collected: Collected }> => {
    if (ref.digest) {
      // A digest reference: what is attached is looked up while the image's own manifest is.
      const [[target], collected] = await Promise.all([
        resolveTargets(client, [ref], false),
        collectCandidates(client, repo, ref.digest, kind),
      ]);
      return { target: target!, collected };
    }
    const [target] = (await resolveTargets(client, [ref], false)) as [ImageTarget];
    return { target, collected: await collectCandidates(client, repo, target.descriptor.digest, kind) };
  })();
  fetched.catch(() => undefined); // awaited below, after usage errors had their say
  const [{ policyFromOptions }, { compilePolicy }, { verifyImage, verificationFailure }, { expandPredicateType }, trust] =
    await Promise.all([
      import('./verify-command.js'),
      import('../../verify/index.js'),
      import('../../image/verify.js'),
      import('../../formats/index.js'),
      // Flag, KEYLESS_TRUSTED_ROOT, the TUF cache, the built-in root: as verify-blob.
      resolveTrust('trusted-root', flags.trustedRoot, { offline: flags.offline === true }),
    ]);
  const policy = policyFromOptions({ ...flags, bundle: '' }, false);
  try {
    compilePolicy(policy);
  } catch (e) {
    throw usage((e as Error).message);
  }
  const predicateType = kind === 'attestation' && flags.type !== undefined ? expandPredicateType(flags.type) : undefined;
  const trustedRoot = trust.path === undefined ? undefined : readTrustedRoot(trust.path, trust.detail);
  const { target, collected } = await fetched;
  const v = await verifyImage(client, target, policy, {
    kind,
    annotations: required,
    trustedRoot,
    signatureRepository: sigRepo,
    predicateType,
    collected: Promise.resolve(collected),
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

function readTrustedRoot(path: string, from: string): string {
  const what = `trusted root ${path}${from.startsWith('--') ? '' : ` (from ${from})`}`;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new KeylessError('FILE_UNREADABLE', `${what} is not a regular file`, { check: 'input' });
    if (st.size > MAX_TRUSTED_ROOT_BYTES)
      throw new KeylessError('INPUT_TOO_LARGE', `${what} is larger than ${MAX_TRUSTED_ROOT_BYTES} bytes`, { check: 'input' });
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new KeylessError('FILE_UNREADABLE', `cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      check: 'input',
    });
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
