// Decoders for the X.509 extensions Sigstore cares about, and the Sigstore OIDs.
import { FormatError } from '../core/errors.js';
import { der, type DerNode, parseDer, readBitString, readBoolean, readOid, readSmallInteger, sequence, TAG } from './der.js';
import { parseName, type DistinguishedName } from './name.js';
import { OID } from './oids.js';

export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue OCTET STRING contents. */
  value: Buffer;
}

export interface BasicConstraints {
  ca: boolean;
  pathLen: number | undefined;
}

/** RFC 5280 KeyUsage bit names, in bit order. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

export type SubjectAltName =
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  | { type: 'dns'; value: string }
  | { type: 'ip'; value: string }
  | { type: 'otherName'; oid: string; value: string }
  | { type: 'directoryName'; value: DistinguishedName }
  | { type: 'other'; tag: number; value: Buffer };

export function parseExtension(node: DerNode, field: string): Extension {
  const kids = sequence(node, field, 2, 3);
  const oid = readOid(kids[0]!, `${field}.extnID`);
  let critical = false;
  let valueNode = kids[1]!;
  if (kids.length === 3) {
    critical = readBoolean(kids[1]!, `${field}.critical`);
    valueNode = kids[2]!;
  }
  valueNode.expect(TAG.OCTET_STRING, `${field}.extnValue`);
  // Shares memory with the certificate's own copy of its DER (never the caller's buffer).
  return { oid, critical, value: valueNode.content };
}

export function decodeBasicConstraints(value: Buffer): BasicConstraints {
  const f = 'basicConstraints';
  const kids = sequence(parseDer(value, f), f, 0, 2);
  let ca = false;
  let pathLen: number | undefined;
  for (const k of kids) {
    if (k.tag === TAG.BOOLEAN) ca = readBoolean(k, f);
    else pathLen = readSmallInteger(k, f);
  }
  return { ca, pathLen };
}

export function decodeKeyUsage(value: Buffer): KeyUsage[] {
  const { bytes } = readBitString(parseDer(value, 'keyUsage'), 'keyUsage');
  const out: KeyUsage[] = [];
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bytes[i >> 3];
    if (byte !== undefined && (byte & (0x80 >> (i & 7))) !== 0) out.push(name);
  });
  return out;
}

export function decodeExtKeyUsage(value: Buffer): string[] {
  const f = 'extKeyUsage';
  return sequence(parseDer(value, f), f, 1).map((n) => readOid(n, f));
}

export function decodeSubjectKeyIdentifier(value: Buffer): Buffer {
  return Buffer.from(parseDer(value, 'subjectKeyIdentifier').expect(TAG.OCTET_STRING, 'subjectKeyIdentifier').content);
}

export function decodeAuthorityKeyIdentifier(value: Buffer): Buffer | undefined {
  const f = 'authorityKeyIdentifier';
  const keyId = sequence(parseDer(value, f), f).find((k) => k.tag === 0x80);
  return keyId ? Buffer.from(keyId.content) : undefined;
}

function ipText(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) return (b.toString('hex').match(/.{4}/g) ?? []).join(':');
  return b.toString('hex');
}

export function decodeGeneralName(n: DerNode, field: string): SubjectAltName {
  switch (n.tag) {
    case 0x81:
      return { type: 'email', value: n.content.toString('latin1') };
    case 0x82:
      return { type: 'dns', value: n.content.toString('latin1') };
    case 0x86:
      return { type: 'uri', value: n.content.toString('latin1') };
    case 0x87:
      return { type: 'ip', value: ipText(n.content) };
    case 0xa4: {
      const inner = n.children(field);
      if (inner.length !== 1) throw new FormatError(field, 'directoryName must hold one Name');
      return { type: 'directoryName', value: parseName(inner[0]!, field) };
    }
    case 0xa0: {
      // otherName: type-id, [0] EXPLICIT value (Sigstore: UTF8String "<sub>!<domain>")
      const [typeId, explicit] = n.children(field);
      if (!typeId || !explicit || explicit.tag !== 0xa0) throw new FormatError(field, 'malformed otherName');
      const oid = readOid(typeId, field);
      const inner = explicit.children(field)[0];
      const value = inner && inner.tag === TAG.UTF8_STRING ? inner.content.toString('utf8') : (inner?.bytes.toString('hex') ?? '');
      return { type: 'otherName', oid, value };
    }
    default:
      return { type: 'other', tag: n.tag, value: Buffer.from(n.bytes) };
  }
}

export function decodeSubjectAltNames(value: Buffer): SubjectAltName[] {
  const f = 'subjectAltName';
  const root = parseDer(value, f).expect(TAG.SEQUENCE, f);
  return root.children(f).map((n) => decodeGeneralName(n, f));
}

/** Camel-case names of the Sigstore extensions (1.3.6.1.4.1.57264.1.N), as sigstore-js and cosign call them. */
export const SIGSTORE_EXTENSION_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.4.1.57264.1.1': 'issuerV1',
  '1.3.6.1.4.1.57264.1.2': 'githubWorkflowTrigger',
  '1.3.6.1.4.1.57264.1.3': 'githubWorkflowSha',
  '1.3.6.1.4.1.57264.1.4': 'githubWorkflowName',
  '1.3.6.1.4.1.57264.1.5': 'githubWorkflowRepository',
  '1.3.6.1.4.1.57264.1.6': 'githubWorkflowRef',
  '1.3.6.1.4.1.57264.1.8': 'issuer',
  '1.3.6.1.4.1.57264.1.9': 'buildSignerURI',
  '1.3.6.1.4.1.57264.1.10': 'buildSignerDigest',
  '1.3.6.1.4.1.57264.1.11': 'runnerEnvironment',
  '1.3.6.1.4.1.57264.1.12': 'sourceRepositoryURI',
  '1.3.6.1.4.1.57264.1.13': 'sourceRepositoryDigest',
  '1.3.6.1.4.1.57264.1.14': 'sourceRepositoryRef',
  '1.3.6.1.4.1.57264.1.15': 'sourceRepositoryIdentifier',
  '1.3.6.1.4.1.57264.1.16': 'sourceRepositoryOwnerURI',
  '1.3.6.1.4.1.57264.1.17': 'sourceRepositoryOwnerIdentifier',
  '1.3.6.1.4.1.57264.1.18': 'buildConfigURI',
  '1.3.6.1.4.1.57264.1.19': 'buildConfigDigest',
  '1.3.6.1.4.1.57264.1.20': 'buildTrigger',
  '1.3.6.1.4.1.57264.1.21': 'runInvocationURI',
  '1.3.6.1.4.1.57264.1.22': 'sourceRepositoryVisibilityAtSigning',
  '1.3.6.1.4.1.57264.1.23': 'deploymentEnvironment',
  '1.3.6.1.4.1.57264.1.24': 'tokenSubject',
};

/** OIDs .1.1–.1.6 hold raw UTF-8 bytes (deprecated); .1.8 and later a DER UTF8String. */
export function isRawSigstoreExtension(oid: string): boolean {
  const arc = sigstoreArc(oid);
  return arc !== undefined && arc >= 1 && arc <= 6;
}

function sigstoreArc(oid: string): number | undefined {
  const prefix = OID.sigstoreArc + '.';
  if (!oid.startsWith(prefix)) return undefined;
  const n = Number(oid.slice(prefix.length));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Decodes a Sigstore extension value to text; undefined for unknown non-UTF8String content. */
export function decodeSigstoreExtension(oid: string, value: Buffer): string | undefined {
  const arc = sigstoreArc(oid);
  if (arc === undefined) return undefined;
  if (arc <= 6) return value.toString('utf8');
  try {
    const node = parseDer(value, oid);
    if (node.tag === TAG.UTF8_STRING) return node.content.toString('utf8');
  } catch (e) {
    if (SIGSTORE_EXTENSION_NAMES[oid]) throw e;
    return undefined;
  }
  if (SIGSTORE_EXTENSION_NAMES[oid]) throw new FormatError(oid, 'Sigstore extension must be a DER UTF8String');
  return undefined;
}

/** Encodes a Sigstore extension value the way Fulcio does (raw for .1–.6, DER UTF8String after). */
export function encodeSigstoreExtension(oid: string, value: string): Buffer {
  if (isRawSigstoreExtension(oid)) return Buffer.from(value, 'utf8');
  return der.utf8(value);
}
