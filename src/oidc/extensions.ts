import type { SigstoreExtensions, SigstoreExtensionValue } from './types.js';

export const SIGSTORE_OID_PREFIX = '1.3.6.1.4.1.57264.1';
/** The otherName type-id of a username SAN (not an extension). */
export const OID_OTHERNAME_USERNAME = '1.3.6.1.4.1.57264.1.7';

type ExtensionName = keyof SigstoreExtensions;

/** OID order as Fulcio renders them; .1.1–.1.6 are raw bytes, .1.8+ DER UTF8String. */
const TABLE: ReadonlyArray<{ oid: string; name: ExtensionName; encoding: 'raw' | 'utf8string' }> = [
  { oid: '1.3.6.1.4.1.57264.1.1', name: 'issuer', encoding: 'raw' },
  { oid: '1.3.6.1.4.1.57264.1.2', name: 'githubWorkflowTrigger', encoding: 'raw' },
  { oid: '1.3.6.1.4.1.57264.1.3', name: 'githubWorkflowSha', encoding: 'raw' },
  { oid: '1.3.6.1.4.1.57264.1.4', name: 'githubWorkflowName', encoding: 'raw' },
  { oid: '1.3.6.1.4.1.57264.1.5', name: 'githubWorkflowRepository', encoding: 'raw' },
  { oid: '1.3.6.1.4.1.57264.1.6', name: 'githubWorkflowRef', encoding: 'raw' },
  { oid: '1.3.6.1.4.1.57264.1.8', name: 'issuer', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.9', name: 'buildSignerUri', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.10', name: 'buildSignerDigest', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.11', name: 'runnerEnvironment', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.12', name: 'sourceRepositoryUri', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.13', name: 'sourceRepositoryDigest', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.14', name: 'sourceRepositoryRef', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.15', name: 'sourceRepositoryIdentifier', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.16', name: 'sourceRepositoryOwnerUri', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.17', name: 'sourceRepositoryOwnerIdentifier', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.18', name: 'buildConfigUri', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.19', name: 'buildConfigDigest', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.20', name: 'buildTrigger', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.21', name: 'runInvocationUri', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.22', name: 'sourceRepositoryVisibilityAtSigning', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.23', name: 'deploymentEnvironment', encoding: 'utf8string' },
  { oid: '1.3.6.1.4.1.57264.1.24', name: 'tokenSubject', encoding: 'utf8string' },
];

/** OID → extension name, for readers (e.g. `token inspect`). */
export const SIGSTORE_EXTENSION_OIDS: ReadonlyArray<{ oid: string; name: ExtensionName; encoding: 'raw' | 'utf8string' }> = TABLE;

/** DER UTF8String (tag 0x0C) with a definite length. */
export function derUtf8String(value: string): Buffer {
  const body = Buffer.from(value, 'utf8');
  const n = body.length;
  let header: Buffer;
  if (n < 0x80) header = Buffer.from([0x0c, n]);
  else if (n < 0x100) header = Buffer.from([0x0c, 0x81, n]);
  else if (n < 0x10000) header = Buffer.from([0x0c, 0x82, n >> 8, n & 0xff]);
  else header = Buffer.from([0x0c, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([header, body]);
}

/** The extensions a leaf carries, in OID order, each with its extnValue contents; empty values are left out. */
export function renderSigstoreExtensions(ext: SigstoreExtensions): SigstoreExtensionValue[] {
  const out: SigstoreExtensionValue[] = [];
  for (const { oid, name, encoding } of TABLE) {
    const value = ext[name];
    if (value === undefined || value === '') continue;
    out.push({ oid, encoding, value, der: encoding === 'raw' ? Buffer.from(value, 'utf8') : derUtf8String(value) });
  }
  return out;
}
