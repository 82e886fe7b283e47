// RFC 3161 timestamp tokens (CMS SignedData over a TSTInfo): parsing and verification.
import { createHash } from 'node:crypto';
import { FormatError, KeylessError, VerificationError } from '../core/errors.js';
import type { X509ErrorCode } from '../core/error-codes.js';
import { bytesEqual } from '../core/hash.js';
import { parseCertificate, type Certificate } from './certificate.js';
import { validateCertificatePath } from './chain.js';
import {
  type DerNode,
  encodeTlv,
  parseDer,
  readBoolean,
  readIntegerBytes,
  readOid,
  readSmallInteger,
  readTime,
  sequence,
  TAG,
} from './der.js';
import { decodeGeneralName, type SubjectAltName } from './extensions.js';
import { parseName, type DistinguishedName } from './name.js';
import { DIGEST_BY_OID, OID, type DigestName } from './oids.js';
import { verifyWithAlgorithm } from './signature.js';
import { periodContains, type TrustedCertificateAuthority } from './trust.js';

export const MAX_TIMESTAMP_BYTES = 256 * 1024;

export interface TstInfo {
  der: Buffer;
  version: number;
  policy: string;
  hashAlgorithm: string;
  hashedMessage: Buffer;
  serialNumber: Buffer;
  genTime: Date;
  accuracy: { seconds: number; millis: number; micros: number } | undefined;
  ordering: boolean;
  nonce: Buffer | undefined;
  tsa: SubjectAltName | undefined;
}

export interface SignerInfo {
  /** issuerAndSerialNumber, or a subjectKeyIdentifier. */
  sid: { issuer: DistinguishedName; serial: Buffer } | { subjectKeyIdentifier: Buffer };
  digestAlgorithm: string;
  /** DER of the signed attributes re-tagged as SET OF (what the signature covers). */
  signedAttrsDer: Buffer | undefined;
  signedAttrs: Map<string, DerNode[]>;
  signatureAlgorithm: string;
  signature: Buffer;
}

export interface TimestampToken {
  /** The ContentInfo DER. */
  der: Buffer;
  tstInfo: TstInfo;
  certificates: Certificate[];
  signerInfo: SignerInfo;
}

function unsigned(b: Buffer): Buffer {
  return b.length > 1 && b[0] === 0 ? b.subarray(1) : b;
}

function algorithmOid(node: DerNode, field: string): string {
  return readOid(sequence(node, field, 1, 2)[0]!, field);
}

function parseTstInfo(der: Buffer): TstInfo {
  const f = 'tstInfo';
  const kids = sequence(parseDer(der, f), f, 5);
  const version = readSmallInteger(kids[0]!, `${f}.version`);
  const policy = readOid(kids[1]!, `${f}.policy`);
  const imprint = sequence(kids[2]!, `${f}.messageImprint`, 2, 2);
  const hashAlgorithm = algorithmOid(imprint[0]!, `${f}.messageImprint.hashAlgorithm`);
  const hashedMessage = Buffer.from(imprint[1]!.expect(TAG.OCTET_STRING, `${f}.messageImprint.hashedMessage`).content);
  const serialNumber = unsigned(readIntegerBytes(kids[3]!, `${f}.serialNumber`));
  const genTime = readTime(kids[4]!.expect(TAG.GENERALIZED_TIME, `${f}.genTime`), `${f}.genTime`);
  const out: TstInfo = {
    der,
    version,
    policy,
    hashAlgorithm,
    hashedMessage,
    serialNumber,
    genTime,
    accuracy: undefined,
    ordering: false,
    nonce: undefined,
    tsa: undefined,
  };
  for (const n of kids.slice(5)) {
    if (n.tag === TAG.SEQUENCE) {
      const acc = { seconds: 0, millis: 0, micros: 0 };
      for (const a of n.children(`${f}.accuracy`)) {
        const v = () => {
          let x = 0;
          for (const b of a.content) x = x * 256 + b;
          return x;
        };
        if (a.tag === TAG.INTEGER) acc.seconds = readSmallInteger(a, `${f}.accuracy.seconds`);
        else if (a.tag === 0x80) acc.millis = v();
        else if (a.tag === 0x81) acc.micros = v();
      }
      out.accuracy = acc;
    } else if (n.tag === TAG.BOOLEAN) out.ordering = readBoolean(n, `${f}.ordering`);
    else if (n.tag === TAG.INTEGER) out.nonce = unsigned(readIntegerBytes(n, `${f}.nonce`));
    else if (n.tag === 0xa0) {
      const gn = n.children(`${f}.tsa`)[0];
      if (gn) out.tsa = decodeGeneralName(gn, `${f}.tsa`);
    }
  }
  return out;
}

function parseSignerInfo(node: DerNode): SignerInfo {
  const f = 'signerInfo';
  const kids = sequence(node, f, 5);
  let i = 1; // skip version
  const sidNode = kids[i++]!;
  let sid: SignerInfo['sid'];
  if (sidNode.tag === TAG.SEQUENCE) {
    const [issuer, serial] = sequence(sidNode, `${f}.sid`, 2, 2);
    sid = { issuer: parseName(issuer!, `${f}.sid.issuer`), serial: unsigned(readIntegerBytes(serial!, `${f}.sid.serialNumber`)) };
  } else if (sidNode.tag === 0x80) {
    sid = { subjectKeyIdentifier: Buffer.from(sidNode.content) };
  } else {
    throw new FormatError(`${f}.sid`, 'unsupported signer identifier');
  }
  const digestAlgorithm = algorithmOid(kids[i++]!, `${f}.digestAlgorithm`);
  let signedAttrsDer: Buffer | undefined;
  const signedAttrs = new Map<string, DerNode[]>();
  if (kids[i]?.tag === 0xa0) {
    const attrs = kids[i++]!;
    signedAttrsDer = encodeTlv(TAG.SET, attrs.content);
    for (const a of attrs.children(`${f}.signedAttrs`)) {
      const [type, values] = sequence(a, `${f}.signedAttrs`, 2, 2);
      const oid = readOid(type!, `${f}.signedAttrs.type`);
      if (signedAttrs.has(oid)) throw new FormatError(`${f}.signedAttrs`, `duplicate attribute ${oid}`);
      signedAttrs.set(oid, values!.expect(TAG.SET, `${f}.signedAttrs.values`).children(`${f}.signedAttrs.values`));
    }
  }
  const sigAlg = kids[i++];
  const sig = kids[i];
  if (!sigAlg || !sig) throw new FormatError(f, 'missing signature');
  return {
    sid,
    digestAlgorithm,
    signedAttrsDer,
    signedAttrs,
    signatureAlgorithm: algorithmOid(sigAlg, `${f}.signatureAlgorithm`),
    signature: Buffer.from(sig.expect(TAG.OCTET_STRING, `${f}.signature`).content),
  };
}

/** Parses a TimeStampToken (ContentInfo with SignedData). */
export function parseTimestampToken(input: Uint8Array): TimestampToken {
  const f = 'timestampToken';
  if (input.byteLength > MAX_TIMESTAMP_BYTES) throw new FormatError(f, `larger than ${MAX_TIMESTAMP_BYTES} bytes`);
  try {
    const der = Buffer.from(input);
    const [contentType, content] = sequence(parseDer(der, f), f, 2, 2);
    if (readOid(contentType!, `${f}.contentType`) !== OID.signedData) throw new FormatError(`${f}.contentType`, 'is not id-signedData');
    const sdNode = content!.expect(0xa0, `${f}.content`).children(f)[0];
    if (!sdNode) throw new FormatError(`${f}.content`, 'missing SignedData');
    const sd = sequence(sdNode, `${f}.signedData`, 4);
    const encap = sequence(sd[2]!, `${f}.encapContentInfo`, 2, 2);
    if (readOid(encap[0]!, `${f}.encapContentInfo.eContentType`) !== OID.tstInfo) {
      throw new FormatError(`${f}.encapContentInfo.eContentType`, 'is not id-ct-TSTInfo');
    }
    const eContent = encap[1]!.expect(0xa0, `${f}.eContent`).children(f)[0];
    if (!eContent) throw new FormatError(`${f}.eContent`, 'missing');
    const tstInfo = parseTstInfo(Buffer.from(eContent.expect(TAG.OCTET_STRING, `${f}.eContent`).content));
    const certificates: Certificate[] = [];
    for (const n of sd.slice(3, -1)) {
      if (n.tag === 0xa0)
        for (const c of n.children(`${f}.certificates`)) if (c.tag === TAG.SEQUENCE) certificates.push(parseCertificate(c.bytes));
    }
    const signerInfos = sd[sd.length - 1]!.expect(TAG.SET, `${f}.signerInfos`).children(`${f}.signerInfos`);
    if (signerInfos.length !== 1) throw new FormatError(`${f}.signerInfos`, `expected exactly one SignerInfo, got ${signerInfos.length}`);
    return { der, tstInfo, certificates, signerInfo: parseSignerInfo(signerInfos[0]!) };
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new FormatError(f, `cannot be parsed (${(e as Error).message})`);
  }
}

export interface TimestampResponse {
  status: number;
  token: TimestampToken | undefined;
  tokenDer: Buffer | undefined;
}

/** Parses a TimeStampResp (status + optional token). */
export function parseTimestampResponse(input: Uint8Array): TimestampResponse {
  const f = 'timestampResponse';
  if (input.byteLength > MAX_TIMESTAMP_BYTES) throw new FormatError(f, `larger than ${MAX_TIMESTAMP_BYTES} bytes`);
  const kids = sequence(parseDer(input, f), f, 1, 2);
  const statusInfo = sequence(kids[0]!, `${f}.status`, 1, 3);
  const status = readSmallInteger(statusInfo[0]!, `${f}.status.status`);
  const tokenDer = kids[1] ? Buffer.from(kids[1].bytes) : undefined;
  return { status, tokenDer, token: tokenDer ? parseTimestampToken(tokenDer) : undefined };
}

/**
 * Accepts what bundles carry in `signedTimestamp`: a whole TimeStampResp (what Sigstore
 * clients store) or a bare TimeStampToken. The status must be granted (0 or 1).
 */
export function parseSignedTimestamp(input: Uint8Array): TimestampToken {
  const f = 'signedTimestamp';
  const kids = sequence(parseDer(input, f), f, 1, 2);
  if (kids[0]!.tag === TAG.OID) return parseTimestampToken(input);
  const resp = parseTimestampResponse(input);
  if (resp.status !== 0 && resp.status !== 1)
    throw new VerificationError('TIMESTAMP_NOT_GRANTED', `timestamp response status ${resp.status}`, {
      check: 'timestamp',
      expected: 0,
      actual: resp.status,
    });
  if (!resp.token) throw new FormatError(f, 'response carries no token');
  return resp.token;
}

const fail = (code: X509ErrorCode, message: string, details: { expected?: unknown; actual?: unknown } = {}) =>
  new VerificationError(code, message, { check: 'timestamp', ...details });

function digestOf(oid: string, data: Uint8Array, what: string): Buffer {
  const name: DigestName | undefined = DIGEST_BY_OID[oid];
  if (!name) throw fail('TIMESTAMP_HASH_UNSUPPORTED', `unsupported ${what} hash algorithm ${oid}`, { actual: oid });
  return createHash(name).update(data).digest();
}

function sidMatches(sid: SignerInfo['sid'], cert: Certificate): boolean {
  if ('subjectKeyIdentifier' in sid) {
    const ski = cert.subjectKeyIdentifier;
    return ski !== undefined && ski.equals(sid.subjectKeyIdentifier);
  }
  return sid.issuer.equals(cert.issuer) && sid.serial.equals(cert.serialBytes);
}

function singleAttr(info: SignerInfo, oid: string): DerNode | undefined {
  const values = info.signedAttrs.get(oid);
  if (!values) return undefined;
  if (values.length !== 1) throw fail('TIMESTAMP_ATTRIBUTE_INVALID', `signed attribute ${oid} must have one value`);
  return values[0];
}

/** RFC 2634 / RFC 5035: the signing-certificate attribute must name the signer certificate. */
function checkSigningCertificate(info: SignerInfo, signer: Certificate): void {
  const v2 = singleAttr(info, OID.signingCertificateV2);
  const v1 = v2 ? undefined : singleAttr(info, OID.signingCertificate);
  const attr = v2 ?? v1;
  if (!attr) throw fail('TIMESTAMP_SIGNING_CERTIFICATE_MISSING', 'no ESS signing-certificate attribute');
  const f = 'signingCertificate';
  const certs = sequence(sequence(attr, f, 1, 2)[0]!, f, 1);
  const first = sequence(certs[0]!, f, 1, 3);
  let j = 0;
  let hashOid: string = v2 ? OID.sha256 : OID.sha1;
  if (v2 && first[0]!.tag === TAG.SEQUENCE) hashOid = algorithmOid(first[j++]!, f);
  const certHash = first[j++]!.expect(TAG.OCTET_STRING, f).content;
  const expected = createHash(hashOid === OID.sha1 ? 'sha1' : (DIGEST_BY_OID[hashOid] ?? 'sha256'))
    .update(signer.der)
    .digest();
  if (!DIGEST_BY_OID[hashOid] && hashOid !== OID.sha1) throw fail('TIMESTAMP_HASH_UNSUPPORTED', `unsupported ESS hash ${hashOid}`);
  if (!bytesEqual(certHash, expected))
    throw fail('TIMESTAMP_SIGNING_CERTIFICATE_MISMATCH', 'ESS certHash does not match the signer certificate');
  const issuerSerial = first[j];
  if (issuerSerial) {
    const [, serial] = sequence(issuerSerial, f, 2, 2);
    if (!unsigned(readIntegerBytes(serial!, f)).equals(signer.serialBytes)) {
      throw fail('TIMESTAMP_SIGNING_CERTIFICATE_MISMATCH', 'ESS issuerSerial does not match the signer certificate');
    }
  }
}

/** Signature algorithm for CMS: accepts both "ecdsa-with-SHAx" and bare key OIDs paired with the digest algorithm. */
function cmsSignatureOid(info: SignerInfo): string {
  const digest = DIGEST_BY_OID[info.digestAlgorithm];
  if (info.signatureAlgorithm === '1.2.840.10045.2.1') {
    return digest === 'sha384' ? OID.ecdsaWithSha384 : digest === 'sha512' ? OID.ecdsaWithSha512 : OID.ecdsaWithSha256;
  }
  if (info.signatureAlgorithm === '1.2.840.113549.1.1.1') {
    return digest === 'sha384' ? OID.sha384WithRsa : digest === 'sha512' ? OID.sha512WithRsa : OID.sha256WithRsa;
  }
  return info.signatureAlgorithm;
}

export interface VerifiedTimestamp {
  genTime: Date;
  tstInfo: TstInfo;
  authority: TrustedCertificateAuthority;
  signer: Certificate;
}

/**
 * Verifies an RFC 3161 token (TimeStampResp or bare token) over `signedBytes` against
 * trusted TSAs (chains leaf first) and returns the verified genTime. Checks: message
 * imprint, content type and message digest attributes, an authority whose validity
 * contains genTime and whose leaf (or an embedded certificate chaining to it) is the
 * signer, the ESS signing-certificate attribute, the CMS signature, and the signer's
 * path at genTime with the timeStamping EKU.
 */
export function verifyTimestampToken(
  token: Uint8Array | TimestampToken,
  signedBytes: Uint8Array,
  authorities: readonly TrustedCertificateAuthority[],
): VerifiedTimestamp {
  const t = token instanceof Uint8Array ? parseSignedTimestamp(token) : token;
  const { tstInfo, signerInfo } = t;

  const imprint = digestOf(tstInfo.hashAlgorithm, signedBytes, 'message imprint');
  if (!bytesEqual(imprint, tstInfo.hashedMessage)) {
    throw fail('TIMESTAMP_IMPRINT_MISMATCH', 'the timestamp message imprint does not match the signature', {
      expected: imprint.toString('hex'),
      actual: tstInfo.hashedMessage.toString('hex'),
    });
  }
  if (!signerInfo.signedAttrsDer) throw fail('TIMESTAMP_ATTRIBUTE_INVALID', 'the SignerInfo has no signed attributes');
  const contentType = singleAttr(signerInfo, OID.contentType);
  if (!contentType || readOid(contentType, 'contentType') !== OID.tstInfo) {
    throw fail('TIMESTAMP_ATTRIBUTE_INVALID', 'the contentType attribute is missing or not id-ct-TSTInfo');
  }
  const md = singleAttr(signerInfo, OID.messageDigest);
  if (!md) throw fail('TIMESTAMP_ATTRIBUTE_INVALID', 'the messageDigest attribute is missing');
  const tstDigest = digestOf(signerInfo.digestAlgorithm, tstInfo.der, 'SignerInfo digest');
  if (!bytesEqual(md.expect(TAG.OCTET_STRING, 'messageDigest').content, tstDigest)) {
    throw fail('TIMESTAMP_MESSAGE_DIGEST_MISMATCH', 'the messageDigest attribute does not match the TSTInfo');
  }

  const genTime = tstInfo.genTime;
  let best: VerificationError | undefined;
  let matchedSigner = false;
  for (const authority of authorities) {
    const chain = authority.certChain;
    // The trusted leaf, or an embedded certificate that chains into this authority.
    const candidates: Certificate[][] = [];
    if (chain[0] && sidMatches(signerInfo.sid, chain[0])) candidates.push(chain);
    for (const c of t.certificates) {
      if (!sidMatches(signerInfo.sid, c) || c.der.equals(chain[0]?.der ?? Buffer.alloc(0))) continue;
      const idx = chain.findIndex((ca) => ca.subject.equals(c.issuer));
      if (idx >= 0) candidates.push([c, ...chain.slice(idx)]);
    }
    if (candidates.length === 0) continue;
    matchedSigner = true;
    if (!periodContains(authority.validFor, genTime)) {
      best ??= fail(
        'TIMESTAMP_OUTSIDE_AUTHORITY_VALIDITY',
        `genTime ${genTime.toISOString()} is outside the TSA's validity in the trusted root`,
        {
          expected: `${authority.validFor.start?.toISOString() ?? '(no start)'} .. ${authority.validFor.end?.toISOString() ?? ''}`,
          actual: genTime.toISOString(),
        },
      );
      continue;
    }
    for (const path of candidates) {
      const signer = path[0]!;
      try {
        checkSigningCertificate(signerInfo, signer);
        if (!verifyWithAlgorithm(cmsSignatureOid(signerInfo), signer.publicKey, signerInfo.signedAttrsDer, signerInfo.signature)) {
          throw fail('TIMESTAMP_SIGNATURE_INVALID', 'the timestamp signature does not verify with the TSA certificate');
        }
        // RFC 3161 2.3: the TSA certificate carries the timeStamping EKU; "no EKU" is not "any EKU" here.
        if (!signer.extKeyUsage?.includes(OID.timeStamping)) {
          throw fail('TIMESTAMP_EKU_MISSING', 'the TSA certificate lacks the timeStamping extended key usage', {
            expected: OID.timeStamping,
            actual: signer.extKeyUsage ?? null,
          });
        }
        validateCertificatePath(path, genTime, OID.timeStamping);
        return { genTime, tstInfo, authority, signer };
      } catch (e) {
        if (!(e instanceof VerificationError)) throw e;
        best = e;
      }
    }
  }
  if (best) throw best;
  throw fail(
    'TIMESTAMP_AUTHORITY_UNTRUSTED',
    matchedSigner ? 'no trusted TSA verifies the timestamp' : 'the timestamp was not signed by a trusted TSA',
  );
}
