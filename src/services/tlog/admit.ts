import { FormatError, KeylessError, VerificationError } from '../../core/errors.js';
import { hexEncode } from '../../core/encoding.js';
import { digest as hashDigest, type HashAlgorithm } from '../../core/hash.js';
import { verifySignature } from '../../core/keys.js';
import { DIGEST_LENGTH } from '../../core/prehash-js.js';
import {
  buildDsseV001,
  buildHashedRekordV001,
  buildIntotoV002,
  canonicalRekorV1Body,
  canonicalRekorV2Body,
  hashAlgorithmForKeyDetails,
  nodeHashName,
  parseStatement,
  IN_TOTO_PAYLOAD_TYPE,
  preAuthEncoding,
  publicKeyDetailsName,
  HashAlgorithmValue,
  type CreateEntryRequestV2,
  type Envelope,
  type HashedRekordV002,
  type RekorV1ProposedEntry,
  type RekorV2Signature,
  type Verifier,
} from '../../formats/index.js';
import { emailIndexKey, hashIndexKey, uriIndexKey, keyFromDer, keyFromPem, publicKeyIndexKey, type SubmittedKey } from './keys.js';
import type { DigestVerifier } from './verify-pool.js';

/** An entry that passed every check: its canonical body and its search keys. */
export interface AdmittedEntry {
  body: Buffer;
  kind: string;
  apiVersion: string;
  indexKeys: string[];
}

function indexKeysFor(keys: SubmittedKey[], hashes: string[]): string[] {
  const out = new Set<string>(hashes);
  for (const k of keys) {
    out.add(publicKeyIndexKey(k.spki));
    for (const e of k.emails) out.add(emailIndexKey(e));
    for (const u of k.uris) out.add(uriIndexKey(u));
  }
  return [...out];
}

/** Subject digests indexed from one statement, at most (the entry size bounds them anyway). */
const MAX_SUBJECT_INDEX_KEYS = 1024;

const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';

/**
 * The digests of an in-toto statement's subjects (and of a SLSA v0.2 provenance's
 * materials), as Rekor indexes DSSE and intoto entries: `rekor-cli search --sha <artifact
 * digest>` then finds the attestations about an artifact. A payload that is not an in-toto
 * statement, or not one that parses, adds no keys (as in Rekor, the entry is still logged).
 */
function statementSubjectKeys(envelope: Envelope): string[] {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return [];
  let statement;
  try {
    statement = parseStatement(envelope.payload);
  } catch {
    return [];
  }
  const digests: Record<string, unknown>[] = statement.subjects.map((s) => s.digest);
  if (statement.predicateType === SLSA_PROVENANCE_V02) {
    const materials = (statement.predicate as { materials?: unknown } | undefined)?.materials;
    for (const m of Array.isArray(materials) ? materials : []) {
      const digest = (m as { digest?: unknown } | null)?.digest;
      if (typeof digest === 'object' && digest !== null) digests.push(digest as Record<string, unknown>);
    }
  }
  const keys: string[] = [];
  for (const digest of digests)
    for (const [alg, hex] of Object.entries(digest))
      if (keys.length < MAX_SUBJECT_INDEX_KEYS && typeof hex === 'string' && /^[0-9a-fA-F]{1,128}$/.test(hex))
        keys.push(hashIndexKey(alg, hex));
  return keys;
}

function signatureInvalid(field: string): VerificationError {
  return new VerificationError('SIGNATURE_INVALID', `${field}: signature does not verify with the given key`, { check: 'signature' });
}

/** The hash Rekor pairs with a key; a different hash is refused (Rekor's allow-list). */
function requireHashForKey(key: SubmittedKey, hash: HashAlgorithm, field: string): void {
  if (key.algorithm === 'ed25519') {
    throw new VerificationError(
      'KEY_UNSUPPORTED',
      `${field}: Ed25519 keys can sign a digest only as Ed25519ph, which this log does not support`,
      { check: 'key-type' },
    );
  }
  if (key.defaultHash !== hash) {
    throw new VerificationError(
      'HASH_ALGORITHM_UNSUPPORTED',
      `${field}: a ${key.algorithm} key signs with ${key.defaultHash}, not ${hash}`,
      {
        check: 'hash-algorithm',
        expected: key.defaultHash,
        actual: hash,
      },
    );
  }
}

/** Lets other requests run between expensive checks of one request. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The keys, each once (by SPKI): a repeated key would only repeat failing checks. */
function distinctKeys(keys: SubmittedKey[]): SubmittedKey[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = k.spki.toString('base64');
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/**
 * For each DSSE signature, the key among `keys` that verifies it over the PAE; throws
 * for the first signature no key verifies. Each key is tried at most once per signature;
 * ECDSA and RSA checks run over the PAE digest in `verifier` (the worker pool when the
 * server has one), Ed25519 ones inline, and the event loop is yielded to between checks,
 * so a request at the limits cannot hold up other requests.
 */
async function dsseSigners(
  envelope: Envelope,
  keys: SubmittedKey[],
  verifier: DigestVerifier,
  field: (i: number) => string,
): Promise<SubmittedKey[]> {
  const pae = preAuthEncoding(envelope.payloadType, envelope.payload);
  const digests = new Map<HashAlgorithm, Buffer>();
  const digestOf = (hash: HashAlgorithm): Buffer => {
    let d = digests.get(hash);
    if (!d) digests.set(hash, (d = hashDigest(hash, pae)));
    return d;
  };
  const signers: SubmittedKey[] = [];
  for (const [i, { sig }] of envelope.signatures.entries()) {
    let found: SubmittedKey | undefined;
    for (const key of keys) {
      await yieldToEventLoop();
      const ok = key.defaultHash
        ? await verifier.verify(key.spki, digestOf(key.defaultHash), sig, key.defaultHash)
        : verifySignature(key.info(), pae, sig);
      if (ok) {
        found = key;
        break;
      }
    }
    if (!found) throw signatureInvalid(field(i));
    signers.push(found);
  }
  return signers;
}

/** Rekor v1: checks a proposed entry and builds the canonical body Rekor would store. */
export async function admitV1(entry: RekorV1ProposedEntry, verifier: DigestVerifier): Promise<AdmittedEntry> {
  switch (entry.kind) {
    case 'hashedrekord': {
      const key = keyFromPem(entry.publicKey, 'spec.signature.publicKey.content');
      const hash = entry.hash.algorithm;
      requireHashForKey(key, hash, 'spec.signature.publicKey.content');
      const digestBytes = Buffer.from(entry.hash.value, 'hex');
      if (!(await verifier.verify(key.spki, digestBytes, entry.signature, hash))) throw signatureInvalid('spec.signature.content');
      const built = buildHashedRekordV001({ hash: entry.hash, signature: entry.signature, publicKeyPem: key.pem });
      return {
        body: canonicalRekorV1Body(built),
        kind: entry.kind,
        apiVersion: entry.apiVersion,
        indexKeys: indexKeysFor([key], [hashIndexKey(hash, entry.hash.value)]),
      };
    }
    case 'dsse': {
      const keys = distinctKeys(entry.verifiers.map((v, i) => keyFromPem(v, `spec.proposedContent.verifiers[${i}]`)));
      if (entry.envelope.signatures.length === 0)
        throw new FormatError('spec.proposedContent.envelope.signatures', 'must not be empty', { check: 'required' });
      const signers = await dsseSigners(entry.envelope, keys, verifier, (i) => `spec.proposedContent.envelope.signatures[${i}]`);
      const built = buildDsseV001({ envelopeText: entry.envelopeText, envelope: entry.envelope, verifierPems: signers.map((k) => k.pem) });
      return {
        body: canonicalRekorV1Body(built),
        kind: entry.kind,
        apiVersion: entry.apiVersion,
        indexKeys: indexKeysFor(signers, [
          hashIndexKey('sha256', built.payloadHash.value),
          hashIndexKey('sha256', built.envelopeHash.value),
          ...statementSubjectKeys(entry.envelope),
        ]),
      };
    }
    case 'intoto': {
      if (entry.envelope.signatures.length === 0)
        throw new FormatError('spec.content.envelope.signatures', 'must not be empty', { check: 'required' });
      const keys = entry.publicKeys.map((p, i) => keyFromPem(p, `spec.content.envelope.signatures[${i}].publicKey`));
      // Each signature names its own key: one check per signature.
      for (const [i, s] of entry.envelope.signatures.entries()) {
        await dsseSigners({ ...entry.envelope, signatures: [s] }, [keys[i]!], verifier, () => `spec.content.envelope.signatures[${i}]`);
      }
      const built = buildIntotoV002({ envelope: entry.envelope, publicKeyPems: keys.map((k) => k.pem) });
      return {
        body: canonicalRekorV1Body(built),
        kind: entry.kind,
        apiVersion: entry.apiVersion,
        indexKeys: indexKeysFor(keys, [hashIndexKey('sha256', built.payloadHash.value), ...statementSubjectKeys(entry.envelope)]),
      };
    }
  }
}

/**
 * Largest verifier certificate or key, in DER bytes. Sigstore leaf certificates are 1-3 KB;
 * a bigger one would only push the canonical body towards what entry bundles cannot hold.
 */
export const MAX_VERIFIER_DER_BYTES = 16 * 1024;

function verifierKey(v: Verifier, field: string): SubmittedKey {
  const which = v.verifier;
  if (!which) throw new FormatError(field, 'needs publicKey or x509Certificate', { check: 'required' });
  const der = which.$case === 'publicKey' ? which.publicKey.rawBytes : which.x509Certificate.rawBytes;
  if (der.length > MAX_VERIFIER_DER_BYTES) {
    throw new KeylessError(
      'TLOG_ENTRY_TOO_LARGE',
      `${field}.${which.$case}: ${der.length} bytes is more than the ${MAX_VERIFIER_DER_BYTES} accepted`,
      { check: 'certificate-size' },
    );
  }
  return keyFromDer(der, which.$case, `${field}.${which.$case}`);
}

/** keyDetails must be what the key is (and allowed): P-256 → PKIX_ECDSA_P256_SHA_256, ... */
function requireKeyDetails(key: SubmittedKey, v: Verifier, field: string): HashAlgorithm {
  const given = v.keyDetails === undefined ? undefined : safeName(v.keyDetails);
  if (given !== key.keyDetails) {
    throw new VerificationError('KEY_DETAILS_MISMATCH', `${field}.keyDetails: the key is ${key.keyDetails}`, {
      check: 'key-details',
      expected: key.keyDetails,
      actual: given,
    });
  }
  const hashEnum = hashAlgorithmForKeyDetails(v.keyDetails!);
  const hash = hashEnum === undefined ? undefined : nodeHashName(hashEnum);
  if (!hash || key.algorithm === 'ed25519') {
    throw new VerificationError('KEY_UNSUPPORTED', `${field}: Ed25519ph is not supported by this log`, { check: 'key-type' });
  }
  return hash;
}

function safeName(v: number): string {
  try {
    return publicKeyDetailsName(v as never);
  } catch {
    return String(v);
  }
}

const HASH_ENUM: Record<HashAlgorithm, number> = {
  sha256: HashAlgorithmValue.SHA2_256,
  sha384: HashAlgorithmValue.SHA2_384,
  sha512: HashAlgorithmValue.SHA2_512,
};

/**
 * Rekor v2: checks a CreateEntryRequest. A DSSE request is logged as a hashedrekord
 * over the PAE (what current rekor-tiles and sigstore-go expect).
 */
export async function admitV2(request: CreateEntryRequestV2, verifier: DigestVerifier): Promise<AdmittedEntry> {
  let digestBytes: Buffer;
  let signature: RekorV2Signature;
  let key: SubmittedKey;
  let hash: HashAlgorithm;
  if (request.$case === 'hashedRekordRequestV002') {
    const r = request.hashedRekordRequestV002;
    key = verifierKey(r.signature.verifier, 'hashedRekordRequestV002.signature.verifier');
    hash = requireKeyDetails(key, r.signature.verifier, 'hashedRekordRequestV002.signature.verifier');
    const size = DIGEST_LENGTH[hash];
    if (r.digest.length !== size) {
      throw new FormatError('hashedRekordRequestV002.digest', `must be ${size} bytes for ${hash}, got ${r.digest.length}`, {
        check: 'digest-length',
      });
    }
    if (!(await verifier.verify(key.spki, r.digest, r.signature.content, hash)))
      throw signatureInvalid('hashedRekordRequestV002.signature.content');
    digestBytes = r.digest;
    signature = r.signature;
  } else {
    const r = request.dsseRequestV002;
    if (r.envelope.signatures.length !== 1) {
      throw new FormatError(
        'dsseRequestV002.envelope.signatures',
        'exactly one signature is supported (it is logged as a hashedrekord over the PAE)',
        { check: 'count' },
      );
    }
    const keys = r.verifiers.map((v, i) => verifierKey(v, `dsseRequestV002.verifiers[${i}]`));
    const sig = r.envelope.signatures[0]!.sig;
    const [signer] = await dsseSigners(r.envelope, distinctKeys(keys), verifier, () => 'dsseRequestV002.envelope.signatures[0]');
    const found = r.verifiers[keys.indexOf(signer!)]!;
    key = signer!;
    hash = requireKeyDetails(key, found, 'dsseRequestV002.verifiers');
    digestBytes = hashDigest(hash, preAuthEncoding(r.envelope.payloadType, r.envelope.payload));
    signature = { content: Buffer.from(sig), verifier: found };
  }
  const entry: HashedRekordV002 = {
    kind: 'hashedrekord',
    apiVersion: '0.0.2',
    data: { algorithm: HASH_ENUM[hash] as never, digest: digestBytes },
    signature,
  };
  return {
    body: canonicalRekorV2Body(entry),
    kind: 'hashedrekord',
    apiVersion: '0.0.2',
    indexKeys: indexKeysFor([key], [hashIndexKey(hash, hexEncode(digestBytes))]),
  };
}
