// An RFC 6962 certificate transparency log: checks submitted chains, issues SCTs and
// keeps the entries in a Merkle tree behind a small store interface. The CA can call
// it in-process (no HTTP hop); the fastify plugin in ./plugin.ts wraps the same object.
import { createHash, type KeyObject } from 'node:crypto';
import type { Signer } from '../../core/signer.js';
import { VerificationError } from '../../core/errors.js';
import { consistencyProof, emptyRoot, inclusionProof, leafHash, memoryNodeReader, nodeHash } from '../../merkle/index.js';
import { signSct, OID, type Certificate, type CtEntry, type Sct } from '../../x509/index.js';
import { HttpError, type HttpStatusCode } from '../http/index.js';

/** Where the log's entries live. Appends must be durable when the promise resolves. */
export interface CtLogStore {
  /** Appends one MerkleTreeLeaf (RFC 6962 §3.4) with its extra data (absent for a CA's in-process TBS); resolves with its index. */
  append(leaf: Buffer, extraData?: Buffer): Promise<number>;
  /** Current tree size and RFC 6962 root hash. */
  head(): Promise<{ size: number; rootHash: Buffer }>;
  /** MerkleTreeLeaf bodies [start, start + count) of the current tree (fewer at its end), with their extra data when kept. */
  readEntries(start: number, count: number): Promise<{ leaf: Buffer; extraData?: Buffer }[]>;
  /** Index of the leaf with this Merkle leaf hash, if it is in the tree of `treeSize`. */
  findLeaf(leafHash: Buffer, treeSize: number): Promise<number | undefined>;
  /** RFC 6962 audit path for `index` in the tree of `treeSize` leaves. */
  inclusionProof(index: number, treeSize: number): Promise<Buffer[]>;
  /** RFC 6962 consistency proof between two tree sizes. */
  consistencyProof(first: number, second: number): Promise<Buffer[]>;
}

/**
 * In-memory store: a compact Merkle frontier (O(log n) per append) and the leaves.
 * For tests and for a server without a log engine; nothing survives a restart.
 */
export class MemoryCtLogStore implements CtLogStore {
  readonly leaves: Buffer[] = [];
  private readonly extras: (Buffer | undefined)[] = [];
  private readonly leafHashes: Buffer[] = [];
  /** Roots of the perfect subtrees on the right edge, largest first, with their sizes. */
  private frontier: { hash: Buffer; size: number }[] = [];

  async append(leaf: Buffer, extraData?: Buffer): Promise<number> {
    const index = this.leaves.length;
    this.leaves.push(leaf);
    this.extras.push(extraData);
    let node = { hash: leafHash(leaf), size: 1 };
    this.leafHashes.push(node.hash);
    while (this.frontier.length > 0 && this.frontier[this.frontier.length - 1]!.size === node.size) {
      const left = this.frontier.pop()!;
      node = { hash: nodeHash(left.hash, node.hash), size: left.size * 2 };
    }
    this.frontier.push(node);
    return index;
  }

  async readEntries(start: number, count: number): Promise<{ leaf: Buffer; extraData?: Buffer }[]> {
    return this.leaves.slice(start, start + count).map((leaf, i) => {
      const extraData = this.extras[start + i];
      return extraData ? { leaf, extraData } : { leaf };
    });
  }

  async findLeaf(hash: Buffer, treeSize: number): Promise<number | undefined> {
    const i = this.leafHashes.findIndex((h) => h.equals(hash));
    return i >= 0 && i < treeSize ? i : undefined;
  }

  async inclusionProof(index: number, treeSize: number): Promise<Buffer[]> {
    return inclusionProof(memoryNodeReader(this.leafHashes), index, treeSize).map((h) => Buffer.from(h));
  }

  async consistencyProof(first: number, second: number): Promise<Buffer[]> {
    return consistencyProof(memoryNodeReader(this.leafHashes), first, second).map((h) => Buffer.from(h));
  }

  async head(): Promise<{ size: number; rootHash: Buffer }> {
    if (this.frontier.length === 0) return { size: 0, rootHash: emptyRoot() };
    let root = this.frontier[this.frontier.length - 1]!.hash;
    for (let i = this.frontier.length - 2; i >= 0; i--) root = nodeHash(this.frontier[i]!.hash, root);
    return { size: this.leaves.length, rootHash: root };
  }
}

export interface CtLogOptions {
  /** ECDSA (P-256 recommended) or RSA key signing SCTs and tree heads. */
  signer: Signer;
  /** Root certificates whose chains are accepted (the CA's root). */
  roots: readonly Certificate[];
  store?: CtLogStore;
  now?: () => Date;
  /** Largest chain accepted (default 10). */
  maxChainLength?: number;
}

export interface SignedTreeHead {
  tree_size: number;
  timestamp: number;
  sha256_root_hash: string;
  tree_head_signature: string;
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};

function rejected(code: HttpStatusCode, message: string): HttpError {
  return new HttpError(code, message);
}

export class CtLog {
  readonly publicKey: KeyObject;
  /** SHA-256 of the DER SubjectPublicKeyInfo (RFC 6962 §3.2). */
  readonly logId: Buffer;
  readonly roots: readonly Certificate[];
  private readonly store: CtLogStore;
  private readonly signer: Signer;
  private readonly now: () => Date;
  private readonly maxChain: number;

  constructor(options: CtLogOptions) {
    const type = options.signer.publicKey.asymmetricKeyType;
    if (type !== 'ec' && type !== 'rsa') throw new VerificationError('KEY_UNSUPPORTED', `a CT log key must be ECDSA or RSA, not ${type}`);
    this.signer = options.signer;
    this.publicKey = options.signer.publicKey;
    this.logId = createHash('sha256')
      .update(this.publicKey.export({ format: 'der', type: 'spki' }))
      .digest();
    this.roots = options.roots;
    this.store = options.store ?? new MemoryCtLogStore();
    this.now = options.now ?? (() => new Date());
    this.maxChain = options.maxChainLength ?? 10;
  }

  /**
   * Checks that `chain` (submission order: entry first) links by signature to an
   * accepted root and that every certificate is valid now. Returns the issuer of
   * chain[0]. The root may be given as the last element or left out.
   */
  private checkChain(chain: readonly Certificate[]): Certificate {
    if (chain.length === 0) throw rejected('CT_CHAIN_EMPTY', 'chain is empty');
    if (chain.length > this.maxChain) throw rejected('CT_CHAIN_TOO_LONG', `chain has more than ${this.maxChain} certificates`);
    const now = this.now();
    for (let i = 0; i < chain.length; i++) {
      const cert = chain[i]!;
      if (!cert.validAt(now)) throw rejected('CT_CERTIFICATE_EXPIRED', `chain[${i}] is not valid now`);
      const root = this.roots.find((r) => r.der.equals(cert.der));
      if (root) {
        if (i === 0) throw rejected('CT_CHAIN_INVALID', 'the entry cannot be a root');
        return chain[1]!;
      }
      const next = chain[i + 1];
      if (next) {
        if (!next.subject.equals(cert.issuer) || !cert.verifySignedBy(next))
          throw rejected('CT_CHAIN_INVALID', `chain[${i}] is not signed by chain[${i + 1}]`);
        if (!next.isCA) throw rejected('CT_CHAIN_INVALID', `chain[${i + 1}] is not a CA`);
        continue;
      }
      // Last element: it must be issued by an accepted root.
      const issuer = this.roots.find((r) => r.subject.equals(cert.issuer) && cert.verifySignedBy(r));
      if (!issuer) throw rejected('CT_CHAIN_UNTRUSTED', 'chain does not lead to an accepted root');
      return chain.length > 1 ? chain[1]! : issuer;
    }
    throw rejected('CT_CHAIN_UNTRUSTED', 'chain does not lead to an accepted root');
  }

  /** RFC 6962 add-pre-chain: chain[0] is a precertificate signed directly by its issuer. */
  async addPreChain(chain: readonly Certificate[]): Promise<Sct> {
    const precert = chain[0];
    if (!precert || !precert.isPrecertificate) throw rejected('CT_NOT_PRECERTIFICATE', 'chain[0] lacks the critical CT poison extension');
    if (!precert.extension(OID.ctPoison)!.critical) throw rejected('CT_NOT_PRECERTIFICATE', 'the CT poison extension must be critical');
    const issuer = this.checkChain(chain);
    if (issuer.extKeyUsage?.includes('1.3.6.1.4.1.11129.2.4.4')) {
      throw rejected('CT_PRECERT_SIGNING_CERT_UNSUPPORTED', 'precertificate signing certificates are not supported');
    }
    const entry: CtEntry = {
      type: 'precert',
      issuerKeyHash: createHash('sha256').update(issuer.spkiDer).digest(),
      tbs: precert.tbsWithoutExtensions(OID.ctPoison),
    };
    return this.log(
      entry,
      chain.map((c) => c.der),
    );
  }

  /**
   * For the CA in the same process, which has just signed `precert` with `issuer`'s
   * key: logs it without re-checking the chain (one signature verification saved per
   * certificate). Anything that arrives over HTTP goes through addPreChain.
   */
  async addTrustedPrecertificate(precert: Certificate, issuer: Certificate): Promise<Sct> {
    if (!precert.isPrecertificate) throw rejected('CT_NOT_PRECERTIFICATE', 'the certificate lacks the CT poison extension');
    const entry: CtEntry = {
      type: 'precert',
      issuerKeyHash: issuerKeyHash(issuer),
      tbs: precert.tbsWithoutExtensions(OID.ctPoison),
    };
    return this.log(entry, [precert.der, issuer.der]);
  }

  /**
   * The same for a CA that built the precertificate's TBS itself (src/x509/build
   * PreparedLeaf): `entryTbs` is the TBS without the poison, the bytes the SCT covers, so
   * no precertificate is parsed; `precertificate` (its DER) is kept for get-entries.
   */
  async addTrustedPrecertificateTbs(entryTbs: Buffer, issuer: Certificate, precertificate?: Buffer): Promise<Sct> {
    return this.log(
      { type: 'precert', issuerKeyHash: issuerKeyHash(issuer), tbs: entryTbs },
      precertificate && [precertificate, issuer.der],
    );
  }

  /** RFC 6962 add-chain: chain[0] is an ordinary certificate. */
  async addChain(chain: readonly Certificate[]): Promise<Sct> {
    const cert = chain[0];
    if (!cert) throw rejected('CT_CHAIN_EMPTY', 'chain is empty');
    if (cert.isPrecertificate) throw rejected('CT_IS_PRECERTIFICATE', 'submit precertificates to add-pre-chain');
    this.checkChain(chain);
    return this.log(
      { type: 'x509', certificate: cert.der },
      chain.map((c) => c.der),
    );
  }

  /** `chain`: the DER of the entry's certificate and of the chain above it, as submitted (kept as extra_data). */
  private async log(entry: CtEntry, chain: readonly Buffer[] | undefined): Promise<Sct> {
    const timestamp = BigInt(this.now().getTime());
    const sct = signSct(this.signer, this.logId, timestamp, entry);
    await this.store.append(merkleTreeLeaf(timestamp, entry), chain && extraData(entry, chain));
    return sct;
  }

  /** RFC 6962 get-proof-by-hash: the audit path of the leaf with that Merkle leaf hash. */
  async proofByHash(hash: Buffer, treeSize: number): Promise<{ leaf_index: number; audit_path: string[] }> {
    const { size } = await this.store.head();
    if (!Number.isSafeInteger(treeSize) || treeSize < 1 || treeSize > size)
      throw rejected('CT_TREE_SIZE_INVALID', `tree_size must be between 1 and ${size}`);
    if (hash.length !== 32) throw rejected('CT_HASH_INVALID', 'hash must be 32 bytes');
    const index = await this.store.findLeaf(hash, treeSize);
    if (index === undefined) throw new HttpError('CT_LEAF_NOT_FOUND', 'no leaf with that hash in the tree');
    const proof = await this.store.inclusionProof(index, treeSize);
    return { leaf_index: index, audit_path: proof.map((h) => h.toString('base64')) };
  }

  /**
   * RFC 6962 §4.6 get-entries: leaves start..end (inclusive), at most `pageLimit` of them,
   * each with its extra_data (empty for entries stored before chains were kept).
   */
  async entries(start: number, end: number, pageLimit: number): Promise<{ entries: Array<{ leaf_input: string; extra_data: string }> }> {
    const { size } = await this.store.head();
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
      throw rejected('CT_RANGE_INVALID', 'need 0 <= start <= end');
    if (start >= size) throw rejected('CT_RANGE_INVALID', `start ${start} is not below the tree size ${size}`);
    const count = Math.min(end, size - 1) - start + 1;
    const entries = await this.store.readEntries(start, Math.min(count, pageLimit));
    return {
      entries: entries.map((e) => ({ leaf_input: e.leaf.toString('base64'), extra_data: e.extraData?.toString('base64') ?? '' })),
    };
  }

  /** RFC 6962 get-sth-consistency. */
  async consistency(first: number, second: number): Promise<{ consistency: string[] }> {
    const { size } = await this.store.head();
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second || second > size) {
      throw rejected('CT_TREE_SIZE_INVALID', `need 0 <= first <= second <= ${size}`);
    }
    const proof = first === 0 || first === second ? [] : await this.store.consistencyProof(first, second);
    return { consistency: proof.map((h) => h.toString('base64')) };
  }

  /** RFC 6962 get-sth: tree size, time, root and the signature over TreeHeadSignature. */
  async getSth(): Promise<SignedTreeHead> {
    const { size, rootHash } = await this.store.head();
    const timestamp = this.now().getTime();
    const signed = Buffer.concat([Buffer.from([0, 1]), u64(BigInt(timestamp)), u64(BigInt(size)), rootHash]);
    const signature = this.signer.sign(signed, 'sha256');
    const algo = this.publicKey.asymmetricKeyType === 'ec' ? 3 : 1;
    return {
      tree_size: size,
      timestamp,
      sha256_root_hash: rootHash.toString('base64'),
      tree_head_signature: Buffer.concat([Buffer.from([4, algo]), u16(signature.length), signature]).toString('base64'),
    };
  }
}

const issuerKeyHashes = new WeakMap<Certificate, Buffer>();

/** SHA-256 of the issuer's SubjectPublicKeyInfo (RFC 6962 precert entries), once per issuer. */
function issuerKeyHash(issuer: Certificate): Buffer {
  let h = issuerKeyHashes.get(issuer);
  if (!h) issuerKeyHashes.set(issuer, (h = createHash('sha256').update(issuer.spkiDer).digest()));
  return h;
}

/** RFC 6962 §3.4 MerkleTreeLeaf for a timestamped entry (no extensions). */
export function merkleTreeLeaf(timestamp: bigint, entry: CtEntry): Buffer {
  const signedEntry =
    entry.type === 'precert'
      ? Buffer.concat([Buffer.from(entry.issuerKeyHash), u24(entry.tbs.length), Buffer.from(entry.tbs)])
      : Buffer.concat([u24(entry.certificate.length), Buffer.from(entry.certificate)]);
  return Buffer.concat([Buffer.from([0, 0]), u64(timestamp), u16(entry.type === 'precert' ? 1 : 0), signedEntry, u16(0)]);
}

/**
 * get-entries extra_data (RFC 6962 §4.6): for an x509 entry the certificate_chain above
 * it; for a precert entry the PrecertChainEntry (the precertificate, then its chain).
 */
function extraData(entry: CtEntry, chain: readonly Buffer[]): Buffer {
  const certList = (certs: readonly Buffer[]) => {
    const body = Buffer.concat(certs.flatMap((c) => [u24(c.length), c]));
    return Buffer.concat([u24(body.length), body]);
  };
  if (entry.type === 'x509') return certList(chain.slice(1));
  return Buffer.concat([u24(chain[0]!.length), chain[0]!, certList(chain.slice(1))]);
}
