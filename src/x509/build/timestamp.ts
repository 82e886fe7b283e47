// RFC 3161 on the TSA side: parsing TimeStampReq, producing TimeStampResp tokens shaped
// like the Sigstore TSA's (section 8.3 of the protocols document).
import { createHash, randomBytes } from 'node:crypto';
import { FormatError, KeylessError } from '../../core/errors.js';
import type { X509ErrorCode } from '../../core/error-codes.js';
import { base64Decode } from '../../core/encoding.js';
import { der, encodeTlv, parseDer, readBoolean, readNonNegativeInteger, readOid, sequence, TAG } from '../der.js';
import { DIGEST_BY_OID, DIGEST_LENGTH, OID, OID_BY_DIGEST, type DigestName } from '../oids.js';
import { signatureAlgorithmFor } from '../signature.js';
import type { CertificateSigner } from './certificate.js';
import type { Certificate } from '../certificate.js';

export interface TimestampRequest {
  hashAlgorithm: DigestName;
  hashedMessage: Buffer;
  /** INTEGER content bytes as sent (echoed verbatim). */
  nonce?: Buffer;
  policy?: string;
  certReq: boolean;
  /** True when the request carried extensions (refused by default, as the Sigstore TSA). */
  hasExtensions: boolean;
}

/** Thrown for requests a TSA must refuse; `code` names the reason. */
export class TimestampRequestError extends KeylessError {
  declare readonly code: X509ErrorCode;
  constructor(code: X509ErrorCode, message: string) {
    super(code, message, { check: 'timestamp-request' });
    this.name = 'TimestampRequestError';
  }
}

function digestName(oid: string): DigestName {
  if (oid === OID.sha1) throw new TimestampRequestError('TSA_WEAK_HASH', 'SHA-1 message imprints are refused');
  const name = DIGEST_BY_OID[oid];
  if (!name) throw new TimestampRequestError('TIMESTAMP_HASH_UNSUPPORTED', `unsupported hash algorithm ${oid}`);
  return name;
}

function checkDigestLength(name: DigestName, digest: Buffer): void {
  if (digest.length !== DIGEST_LENGTH[name]) {
    throw new TimestampRequestError('TSA_DIGEST_LENGTH', `a ${name} digest has ${DIGEST_LENGTH[name]} bytes, got ${digest.length}`);
  }
}

/** Nonces are random numbers of 64-160 bits in practice; longer ones are refused. */
const MAX_NONCE_BYTES = 32;

/** Parses a DER TimeStampReq; malformed input → FormatError, refused content → TimestampRequestError. */
export function parseTimestampRequest(input: Uint8Array): TimestampRequest {
  const f = 'timeStampReq';
  try {
    const kids = sequence(parseDer(input, f), f, 2, 6);
    const version = Number(readNonNegativeInteger(kids[0]!, `${f}.version`, 1));
    if (version !== 1) throw new FormatError(`${f}.version`, `unsupported version ${version}`);
    const imprint = sequence(kids[1]!, `${f}.messageImprint`, 2, 2);
    const alg = readOid(sequence(imprint[0]!, `${f}.messageImprint.hashAlgorithm`, 1, 2)[0]!, `${f}.messageImprint.hashAlgorithm`);
    const hashedMessage = Buffer.from(imprint[1]!.expect(TAG.OCTET_STRING, `${f}.messageImprint.hashedMessage`).content);
    const out: TimestampRequest = { hashAlgorithm: digestName(alg), hashedMessage, certReq: false, hasExtensions: false };
    checkDigestLength(out.hashAlgorithm, hashedMessage);
    // TimeStampReq's optional fields, each at most once and in this order (strict DER):
    // reqPolicy OID, nonce INTEGER, certReq BOOLEAN DEFAULT FALSE, extensions [0].
    const order = [TAG.OID, TAG.INTEGER, TAG.BOOLEAN, 0xa0];
    let last = -1;
    for (const n of kids.slice(2)) {
      const rank = order.indexOf(n.tag);
      if (rank < 0) throw new FormatError(f, `unexpected element with tag 0x${n.tag.toString(16)}`);
      if (rank <= last) throw new FormatError(f, 'optional fields repeated or out of order (reqPolicy, nonce, certReq, extensions)');
      last = rank;
      if (n.tag === TAG.OID) out.policy = readOid(n, `${f}.reqPolicy`);
      else if (n.tag === TAG.INTEGER) {
        // Re-encoded from its value: the token echoes a minimal, non-negative INTEGER whatever was sent.
        out.nonce = der.integer(readNonNegativeInteger(n, `${f}.nonce`, MAX_NONCE_BYTES)).subarray(2);
      } else if (n.tag === TAG.BOOLEAN) {
        if (n.content.length !== 1 || n.content[0] !== 0xff) {
          throw new FormatError(`${f}.certReq`, 'must be DER TRUE (0xFF) when present; FALSE is the default and is omitted in DER');
        }
        out.certReq = readBoolean(n, `${f}.certReq`);
      } else out.hasExtensions = true;
    }
    return out;
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new FormatError(f, `cannot be parsed (${(e as Error).message})`);
  }
}

/** Builds a request from the sigstore timestamp-authority JSON form (validated by the caller's schema). */
export function timestampRequestFromJson(body: { artifactHash: string; hashAlgorithm: string; nonce?: bigint; certificates?: boolean; tsaPolicyOID?: string }): TimestampRequest {
  const name = body.hashAlgorithm.toLowerCase().replace('-', '');
  if (name === 'sha1') throw new TimestampRequestError('TSA_WEAK_HASH', 'SHA-1 message imprints are refused');
  if (name !== 'sha256' && name !== 'sha384' && name !== 'sha512') {
    throw new TimestampRequestError('TIMESTAMP_HASH_UNSUPPORTED', `unsupported hash algorithm ${body.hashAlgorithm}`);
  }
  const hashedMessage = base64Decode(body.artifactHash, 'artifactHash');
  checkDigestLength(name, hashedMessage);
  const out: TimestampRequest = { hashAlgorithm: name, hashedMessage, certReq: body.certificates ?? false, hasExtensions: false };
  if (body.nonce !== undefined) out.nonce = der.integer(body.nonce).subarray(2);
  if (body.tsaPolicyOID) out.policy = body.tsaPolicyOID;
  return out;
}

export interface TimestampSigner extends CertificateSigner {
  /** Issuing chain above the signer (without it), added to `certificates` when configured. */
  chain?: readonly Certificate[];
}

export interface TimestampOptions {
  now?: Date;
  policy?: string;
  serial?: Uint8Array;
  /** Also embed the issuing chain when the request sets certReq (Sigstore's default: leaf only). */
  includeChain?: boolean;
}

const algId = (oid: string) => der.sequence(der.oid(oid));

interface SignerParts {
  issuerAndSerial: Buffer;
  essAttribute: Buffer;
  tsaName: Buffer;
}
const partsCache = new WeakMap<Certificate, SignerParts>();

/** What depends only on the TSA certificate, encoded once per certificate. */
function signerParts(cert: Certificate): SignerParts {
  let p = partsCache.get(cert);
  if (!p) {
    // ESSCertIDv2 with hashAlgorithm left out (DEFAULT sha256), as the Sigstore TSA emits it.
    const essCertId = der.sequence(
      der.octetString(createHash('sha256').update(cert.der).digest()),
      der.sequence(der.sequence(der.context(4, cert.issuer.der)), der.integer(cert.serialBytes)),
    );
    p = {
      issuerAndSerial: der.sequence(cert.issuer.der, der.integer(cert.serialBytes)),
      essAttribute: der.sequence(der.oid(OID.signingCertificateV2), der.set(der.sequence(der.sequence(essCertId)))),
      tsaName: der.context(0, der.context(4, cert.subject.der)),
    };
    partsCache.set(cert, p);
  }
  return p;
}
const algIdNull = (oid: string) => der.sequence(der.oid(oid), der.null());

// DER pieces every token shares, encoded once (a response is ~70 µs, ~30 of them the signature).
const VERSION_1 = der.integer(1);
const ACCURACY_1S = der.sequence(der.integer(1));
const SHA256_ALG_ID = algId(OID.sha256);
const DIGEST_ALGORITHMS = der.set(SHA256_ALG_ID);
const SIGNED_DATA_VERSION = der.integer(3);
const TST_INFO_OID = der.oid(OID.tstInfo);
const STATUS_GRANTED = der.sequence(der.integer(0));
const SIGNED_DATA_OID = der.oid(OID.signedData);
const CONTENT_TYPE_ATTRIBUTE = der.sequence(der.oid(OID.contentType), der.set(der.oid(OID.tstInfo)));
const SIGNING_TIME_OID = der.oid(OID.signingTime);
const MESSAGE_DIGEST_OID = der.oid(OID.messageDigest);
const oidCache = new Map<string, Buffer>();
const cachedOid = (oid: string): Buffer => {
  let out = oidCache.get(oid);
  if (!out) {
    out = der.oid(oid);
    if (oidCache.size < 64) oidCache.set(oid, out);
  }
  return out;
};
const imprintAlgIds = new Map<DigestName, Buffer>();
const imprintAlgId = (name: DigestName): Buffer => {
  let out = imprintAlgIds.get(name);
  if (!out) imprintAlgIds.set(name, (out = algIdNull(OID_BY_DIGEST[name])));
  return out;
};

/**
 * A granted TimeStampResp: TSTInfo (policy, imprint, 20-byte serial, genTime in whole
 * seconds, accuracy 1 s, echoed nonce, tsa name) in CMS SignedData with the four signed
 * attributes, signed with SHA-256 by the TSA key, sid = issuerAndSerialNumber.
 */
export function createTimestampResponse(request: TimestampRequest, signer: TimestampSigner, options: TimestampOptions = {}): Buffer {
  const now = options.now ?? new Date();
  const genTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const cert = signer.certificate;
  const { issuerAndSerial, essAttribute, tsaName } = signerParts(cert);
  const serial = options.serial ?? (() => {
    const b = randomBytes(20);
    b[0] = (b[0]! & 0x7f) | 0x01;
    return b;
  })();
  const tstParts = [
    VERSION_1,
    cachedOid(options.policy ?? request.policy ?? OID.sigstoreTsaPolicy),
    der.sequence(imprintAlgId(request.hashAlgorithm), der.octetString(request.hashedMessage)),
    der.integer(serial),
    der.generalizedTime(genTime),
    ACCURACY_1S,
  ];
  if (request.nonce) tstParts.push(encodeTlv(TAG.INTEGER, request.nonce));
  tstParts.push(tsaName);
  const tstInfo = der.sequence(...tstParts);

  const attrs = [
    CONTENT_TYPE_ATTRIBUTE,
    der.sequence(SIGNING_TIME_OID, der.set(der.utcTime(genTime))),
    der.sequence(MESSAGE_DIGEST_OID, der.set(der.octetString(createHash('sha256').update(tstInfo).digest()))),
    essAttribute,
  ].sort(Buffer.compare);
  const signedAttrsSet = encodeTlv(TAG.SET, ...attrs);
  const alg = signatureAlgorithmFor(signer.key.publicKey, 'sha256');
  const signature = signer.key.sign(signedAttrsSet, alg.hash ?? undefined);
  const signerInfo = der.sequence(
    VERSION_1,
    issuerAndSerial,
    SHA256_ALG_ID,
    encodeTlv(0xa0, ...attrs),
    der.sequence(cachedOid(alg.oid)),
    der.octetString(signature),
  );

  const sdParts = [
    SIGNED_DATA_VERSION,
    DIGEST_ALGORITHMS,
    der.sequence(TST_INFO_OID, der.context(0, der.octetString(tstInfo))),
  ];
  if (request.certReq) {
    const certs = [cert.der, ...(options.includeChain ? (signer.chain ?? []).map((c) => c.der) : [])];
    sdParts.push(encodeTlv(0xa0, ...certs));
  }
  sdParts.push(der.set(signerInfo));
  const contentInfo = der.sequence(SIGNED_DATA_OID, der.context(0, der.sequence(...sdParts)));
  return der.sequence(STATUS_GRANTED, contentInfo);
}
