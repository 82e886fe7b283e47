// `keyless sign` and `keyless attest` for images (loaded only when one runs).
import { readFileSync, statSync } from 'node:fs';
import { KeylessError } from '../../core/errors.js';
import { resolveTargets, signImages, checkLegacyServices } from '../../image/index.js';
import { KeylessSigner, createSelfVerifier, resolvePredicateType, SignError } from '../../sign/index.js';
import { writeFileAtomic } from '../write.js';
import { prepare, type IdentityFlags, type ServiceFlags } from './sign-blob.js';
import {
  annotationsOf,
  bool,
  log,
  name,
  references,
  registryClient,
  signatureRepository,
  usage,
  type RegistryFlags,
} from './image-options.js';

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
  const options = prepare(flags);
  if (layout === 'legacy') checkLegacyServices(options.services);
  // Each new bundle is verified on this thread: the verifier checks the one certificate's
  // chain and SCTs once for the whole batch, and per bundle only what differs (signature,
  // log entry with its proof and checkpoint, timestamp), ~1.5 ms. A worker thread cost more
  // than it saved (its start, a second copy of the trust material, a structured clone and a
  // re-parse per bundle: ~0.9 ms of CPU per image more in a 100-image batch, bench/oci.ts).
  const verifier = createSelfVerifier(options.trustedRoot);
  const client = registryClient(flags);
  const signer = new KeylessSigner({ services: options.services, getToken: options.getToken, tokenCheck: options.tokenCheck });
  try {
    // Registry problems show before an identity token is asked for.
    const targets = await resolveTargets(client, refs, flags.recursive === true);
    setImmediate(() => verifier.warm());
    const signatures = await signImages(
      client,
      signer,
      verifier,
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
    await verifier.close();
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
