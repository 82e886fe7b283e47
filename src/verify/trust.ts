// Trust material: everything that depends only on the trusted root, prepared once and
// cached per trusted-root object: transparency-log keys indexed by log ID (here), and the
// parsed CA/TSA chains and CT log keys (src/x509's view of the same root, built lazily, so
// a one-shot CLI run pays only for what its bundle uses). The types are src/x509's trust model.
import { KeylessError } from '../core/errors.js';
import { parseTrustedRoot, type TrustedRoot } from '../formats/index.js';
import {
  loadTrustMaterial,
  parseCertificate,
  trustedLog,
  verifyEmbeddedScts,
  type Certificate,
  type TrustMaterial as X509TrustMaterial,
  type TrustedLog,
  type VerifiedSct,
} from '../x509/index.js';
import { VerifyCode } from './checks.js';

export class TrustMaterial {
  readonly tlogs: TrustedLog[] = [];
  private readonly tlogIndex = new Map<string, TrustedLog[]>();
  /** DER (base64) of every certificate in a CA chain: a bundle must not carry these as its leaf. */
  private anchorSet: Set<string> | undefined;

  constructor(readonly root: TrustedRoot) {
    root.tlogs.forEach((l, i) => this.addTlog(l, i));
    root.certificateAuthorities.forEach((ca, i) => checkAuthority('certificateAuthorities', ca, i));
    root.timestampAuthorities.forEach((ca, i) => checkAuthority('timestampAuthorities', ca, i));
  }

  private x509Material: X509TrustMaterial | undefined;
  /** Parsed CA chains, CT log keys and TSA chains (x509's view of the same root). */
  get x509(): X509TrustMaterial {
    if (!this.x509Material) {
      try {
        this.x509Material = loadTrustMaterial(this.root);
      } catch (e) {
        throw malformed((e as Error).message);
      }
    }
    return this.x509Material;
  }

  private addTlog(l: TrustedRoot['tlogs'][number], i: number): void {
    const field = `tlogs[${i}]`;
    const pk = l.publicKey;
    if (!pk?.rawBytes || pk.rawBytes.length === 0) throw malformed(`${field}.publicKey.rawBytes is missing`);
    const logId = l.logId?.keyId;
    if (!logId || logId.length === 0) throw malformed(`${field}.logId is missing`);
    requireStart(pk.validFor, `${field}.publicKey.validFor`);
    const log = trustedLog('tlog', l, i);
    this.tlogs.push(log);
    const index = this.tlogIndex;
    const ids = [logId.toString('base64')];
    const cp = l.checkpointKeyId?.keyId;
    if (cp && cp.length > 0 && !cp.equals(logId)) ids.push(cp.toString('base64'));
    for (const id of ids) {
      const list = index.get(id);
      if (list) list.push(log);
      else index.set(id, [log]);
    }
  }

  /** Transparency logs whose ID (logId or checkpointKeyId) is `id`. */
  tlogsById(id: Uint8Array): TrustedLog[] {
    return this.tlogIndex.get(Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64')) ?? [];
  }

  /**
   * Leaf certificates seen with this root, by their DER. A batch signs every file with one
   * certificate, so its parse, public key, verified issuer signatures (memoized on the
   * Certificate) and SCTs are worked out once. Only facts that depend on the certificate's
   * bytes and this root live here; validity at each verified time is checked per bundle.
   */
  private readonly leaves = new Map<string, LeafFacts>();

  /** The leaf certificate for `der`, parsed once per root (throws a FormatError as parseCertificate does). */
  leafCertificate(der: Uint8Array): Certificate {
    return this.leafFacts(der).certificate;
  }

  /**
   * verifyEmbeddedScts(leaf, issuer, ctLogs, threshold), remembered on success: the SCTs'
   * signatures and log windows depend only on the leaf, its issuer and this root.
   */
  verifiedScts(leaf: Certificate, issuer: Certificate, threshold: number): VerifiedSct[] {
    const facts = this.leaves.get(leaf.der.toString('base64'));
    const memo = facts && facts.certificate === leaf ? facts.scts : undefined;
    const key = `${threshold}`;
    const hit = memo?.get(issuer)?.get(key);
    if (hit) return hit;
    const scts = verifyEmbeddedScts(leaf, issuer, this.x509.ctLogs, threshold);
    if (memo) {
      let byThreshold = memo.get(issuer);
      if (!byThreshold) memo.set(issuer, (byThreshold = new Map()));
      byThreshold.set(key, scts);
    }
    return scts;
  }

  private leafFacts(der: Uint8Array): LeafFacts {
    const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
    const id = bytes.toString('base64');
    const hit = this.leaves.get(id);
    // The key is the whole DER; comparing the bytes as well costs nothing next to a parse.
    if (hit && hit.certificate.der.equals(bytes)) return hit;
    const facts: LeafFacts = { certificate: parseCertificate(bytes), scts: new Map() };
    if (this.leaves.size >= LEAF_MEMO_LIMIT) this.leaves.delete(this.leaves.keys().next().value as string);
    this.leaves.set(id, facts);
    return facts;
  }

  /** Checkpoint texts whose signature verified, with the trusted log and key name that verified them. */
  private readonly checkpoints = new Map<string, Array<{ log: TrustedLog; keyName: string }>>();

  /** Whether this exact checkpoint text verified before with `log`'s key under `keyName`. */
  checkpointVerified(note: string, log: TrustedLog, keyName: string): boolean {
    return this.checkpoints.get(note)?.some((v) => v.log === log && v.keyName === keyName) ?? false;
  }

  /** Records a verified checkpoint signature (only after verifyNote succeeded). */
  rememberCheckpoint(note: string, log: TrustedLog, keyName: string): void {
    const list = this.checkpoints.get(note);
    if (list) {
      list.push({ log, keyName });
      return;
    }
    if (this.checkpoints.size >= CHECKPOINT_MEMO_LIMIT) this.checkpoints.delete(this.checkpoints.keys().next().value as string);
    this.checkpoints.set(note, [{ log, keyName }]);
  }

  /**
   * The same root without the per-bundle memos (leaf certificates, their SCTs, checkpoint
   * signatures): every bundle pays for its own certificate and checkpoint checks, while
   * what depends only on the root stays cached. For callers that want no cross-bundle
   * state, and for benchmarks that verify one bundle repeatedly.
   */
  withoutBundleMemo(): TrustMaterial {
    const view: TrustMaterial = Object.create(this);
    view.leafCertificate = (der) => parseCertificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
    view.verifiedScts = (leaf, issuer, threshold) => verifyEmbeddedScts(leaf, issuer, this.x509.ctLogs, threshold);
    view.checkpointVerified = () => false;
    view.rememberCheckpoint = () => {};
    return view;
  }

  /** Whether `der` is one of the trusted CA certificates (a bundle must never carry those). */
  isTrustedCaCertificate(der: Buffer): boolean {
    if (!this.anchorSet) {
      this.anchorSet = new Set(
        this.root.certificateAuthorities.flatMap((ca) => (ca.certChain?.certificates ?? []).map((c) => c.rawBytes.toString('base64'))),
      );
    }
    return this.anchorSet.has(der.toString('base64'));
  }
}

interface LeafFacts {
  certificate: Certificate;
  /** Verified SCTs by issuing CA certificate (a trusted-root object) and threshold. */
  scts: Map<Certificate, Map<string, VerifiedSct[]>>;
}

/** Distinct leaves remembered per root: one per batch, a few for long-lived verifiers. */
const LEAF_MEMO_LIMIT = 64;

/** Checkpoints remembered per root: a log publishes a new one per batch of entries. */
const CHECKPOINT_MEMO_LIMIT = 256;

function malformed(message: string): KeylessError {
  return new KeylessError(VerifyCode.TRUSTED_ROOT_INVALID, `trusted root: ${message}`, { check: 'trusted-root' });
}

/** A validity period without a start is malformed (sigstore-go refuses it too). */
function requireStart(v: { start?: Date } | undefined, field: string): void {
  if (!v?.start) throw malformed(`${field}.start is missing`);
}

function checkAuthority(kind: string, ca: TrustedRoot['certificateAuthorities'][number], i: number): void {
  const field = `${kind}[${i}]`;
  if ((ca.certChain?.certificates ?? []).length === 0) throw malformed(`${field}.certChain is empty`);
  requireStart(ca.validFor, `${field}.validFor`);
}

const byRoot = new WeakMap<object, TrustMaterial>();

/**
 * Trust material for a trusted root given as a parsed TrustedRoot or its JSON value;
 * cached per object, so repeated verifications with the same root reuse parsed keys,
 * certificates and chain checks.
 */
export function trustMaterialFor(root: unknown): TrustMaterial {
  if (typeof root === 'object' && root !== null) {
    const hit = byRoot.get(root);
    if (hit) return hit;
  }
  let material: TrustMaterial;
  try {
    const parsed = isParsedTrustedRoot(root) ? root : parseTrustedRoot(root);
    material = new TrustMaterial(parsed);
  } catch (e) {
    if (e instanceof KeylessError && e.code === VerifyCode.TRUSTED_ROOT_INVALID) throw e;
    throw new KeylessError(VerifyCode.TRUSTED_ROOT_INVALID, `trusted root: ${(e as Error).message}`, { check: 'trusted-root', cause: e });
  }
  if (typeof root === 'object' && root !== null) byRoot.set(root, material);
  return material;
}

function isParsedTrustedRoot(v: unknown): v is TrustedRoot {
  if (typeof v !== 'object' || v === null) return false;
  // A parsed root carries Buffers for key and certificate bytes; its JSON form carries base64 strings.
  const r = v as Record<
    string,
    { publicKey?: { rawBytes?: unknown }; certChain?: { certificates?: { rawBytes?: unknown }[] } }[] | undefined
  >;
  const firsts = [
    r.tlogs?.[0]?.publicKey?.rawBytes,
    r.ctlogs?.[0]?.publicKey?.rawBytes,
    r.certificateAuthorities?.[0]?.certChain?.certificates?.[0]?.rawBytes,
    r.timestampAuthorities?.[0]?.certChain?.certificates?.[0]?.rawBytes,
  ];
  return firsts.some((b) => Buffer.isBuffer(b));
}
