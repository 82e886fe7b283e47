// TrustedRoot (sigstore_trustroot.proto): strict parsing and protojson output.
import type { TrustedRoot, TransparencyLogInstance, CertificateAuthority } from '@sigstore/protobuf-specs';
import { FormatError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import {
  readCertificateChain,
  readDistinguishedName,
  readLogId,
  readPublicKey,
  readTimeRange,
  writeCertificateChain,
  writePublicKey,
  writeTimeRange,
} from './common.js';
import { HASH_ALGORITHMS, hashAlgorithmName } from './enums.js';
import { MessageReader, b64, compact, readList, type ReadOptions } from './protojson.js';

export type { TrustedRoot, TransparencyLogInstance, CertificateAuthority };

/** What the public TUF repository serves. */
export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const TRUSTED_ROOT_MEDIA_TYPES: readonly string[] = [
  TRUSTED_ROOT_MEDIA_TYPE,
  'application/vnd.dev.sigstore.trustedroot.v0.1+json',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
];

/**
 * Parses and validates a TrustedRoot (JSON value, text or bytes). Every entry needs
 * a validity window with a start (an entry without one is malformed); explicit
 * nulls, which real roots contain (`"end": null`, `"operator": null`), mean absent.
 */
export function parseTrustedRoot(input: unknown, options: ReadOptions = {}): TrustedRoot {
  const json = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'trustedRoot') : input;
  const o = { ignoreUnknownFields: options.ignoreUnknownFields ?? false };
  const m = new MessageReader(json, '', ['mediaType', 'tlogs', 'certificateAuthorities', 'ctlogs', 'timestampAuthorities'], o);
  const mediaType = m.string('mediaType', { required: true });
  if (!TRUSTED_ROOT_MEDIA_TYPES.includes(mediaType)) {
    throw new FormatError('mediaType', `unsupported trusted root media type ${JSON.stringify(mediaType.slice(0, 100))}`, {
      check: 'media-type',
      actual: mediaType,
    });
  }
  return {
    mediaType,
    tlogs: readList(m, 'tlogs', (v, p) => readLogInstance(v, p, o)),
    certificateAuthorities: readList(m, 'certificateAuthorities', (v, p) => readAuthority(v, p, o)),
    ctlogs: readList(m, 'ctlogs', (v, p) => readLogInstance(v, p, o)),
    timestampAuthorities: readList(m, 'timestampAuthorities', (v, p) => readAuthority(v, p, o)),
  };
}

function readLogInstance(v: unknown, path: string, o: ReadOptions): TransparencyLogInstance {
  const m = new MessageReader(v, path, ['baseUrl', 'hashAlgorithm', 'publicKey', 'logId', 'checkpointKeyId', 'operator'], o);
  const publicKey = readPublicKey(m.required('publicKey'), m.at('publicKey'), o);
  if (!publicKey.validFor) throw new FormatError(`${m.at('publicKey')}.validFor`, 'is required', { check: 'required' });
  return {
    baseUrl: m.string('baseUrl', { required: true }),
    hashAlgorithm: m.enumValue('hashAlgorithm', HASH_ALGORITHMS, { required: true }),
    publicKey,
    logId: readLogId(m.required('logId'), m.at('logId'), o),
    checkpointKeyId: m.has('checkpointKeyId') ? readLogId(m.raw('checkpointKeyId'), m.at('checkpointKeyId'), o) : undefined,
    operator: m.string('operator'),
  };
}

function readAuthority(v: unknown, path: string, o: ReadOptions): CertificateAuthority {
  const m = new MessageReader(v, path, ['subject', 'uri', 'certChain', 'validFor', 'operator'], o);
  return {
    subject: m.has('subject') ? readDistinguishedName(m.raw('subject'), m.at('subject'), o) : undefined,
    uri: m.string('uri'),
    certChain: readCertificateChain(m.required('certChain'), m.at('certChain'), o),
    validFor: readTimeRange(m.required('validFor'), m.at('validFor'), o),
    operator: m.string('operator'),
  };
}

export function serializeTrustedRoot(tr: TrustedRoot): Record<string, unknown> {
  return compact({
    mediaType: tr.mediaType,
    tlogs: tr.tlogs.map(writeLogInstance),
    certificateAuthorities: tr.certificateAuthorities.map(writeAuthority),
    ctlogs: tr.ctlogs.map(writeLogInstance),
    timestampAuthorities: tr.timestampAuthorities.map(writeAuthority),
  });
}

function writeLogInstance(t: TransparencyLogInstance): Record<string, unknown> {
  return compact({
    baseUrl: t.baseUrl,
    hashAlgorithm: t.hashAlgorithm ? hashAlgorithmName(t.hashAlgorithm) : undefined,
    publicKey: t.publicKey ? writePublicKey(t.publicKey) : undefined,
    logId: t.logId ? compact({ keyId: b64(t.logId.keyId) }) : undefined,
    checkpointKeyId: t.checkpointKeyId ? compact({ keyId: b64(t.checkpointKeyId.keyId) }) : undefined,
    operator: t.operator,
  });
}

function writeAuthority(a: CertificateAuthority): Record<string, unknown> {
  return compact({
    subject: a.subject ? compact({ organization: a.subject.organization, commonName: a.subject.commonName }) : undefined,
    uri: a.uri,
    certChain: a.certChain ? writeCertificateChain(a.certChain) : undefined,
    validFor: a.validFor ? writeTimeRange(a.validFor) : undefined,
    operator: a.operator,
  });
}
