// Sigstore bundles v0.1, v0.2 and v0.3 (sigstore_bundle.proto): strict parsing with
// the version rules, and serialization exactly as protojson emits it.
import type { Bundle, VerificationMaterial, TimestampVerificationData, MessageSignature } from '@sigstore/protobuf-specs';
import { FormatError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import {
  readCertificateChain,
  readHashOutput,
  readTransparencyLogEntry,
  readX509Certificate,
  writeCertificateChain,
  writeHashOutput,
  writeTransparencyLogEntry,
} from './common.js';
import { readEnvelope, serializeEnvelope } from './dsse.js';
import { MessageReader, b64, compact, readList, type ReadOptions } from './protojson.js';

export type { Bundle, VerificationMaterial, TimestampVerificationData, MessageSignature };

export const BUNDLE_V01_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
export const BUNDLE_V02_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The older spelling of v0.3, still accepted when reading. */
export const BUNDLE_V03_LEGACY_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.3';

export type BundleVersion = '0.1' | '0.2' | '0.3';

const MEDIA_TYPES: Readonly<Record<string, BundleVersion>> = {
  [BUNDLE_V01_MEDIA_TYPE]: '0.1',
  [BUNDLE_V02_MEDIA_TYPE]: '0.2',
  [BUNDLE_V03_MEDIA_TYPE]: '0.3',
  [BUNDLE_V03_LEGACY_MEDIA_TYPE]: '0.3',
};

/** Sigstore-go's limits; more entries than this is an attack, not a bundle. */
export const MAX_TLOG_ENTRIES = 32;
export const MAX_TIMESTAMPS = 32;

export interface ParseBundleOptions extends ReadOptions {
  /**
   * Accept an X.509 chain in a v0.3 bundle's verification material (cosign's
   * `--allow-certificate-chain`); otherwise v0.3 bundles must carry one certificate.
   */
  allowCertificateChain?: boolean;
}

/** The bundle version named by a media type, or undefined when unknown. */
export function bundleVersionOf(mediaType: string): BundleVersion | undefined {
  return MEDIA_TYPES[mediaType];
}

/** The version of a parsed bundle. */
export function bundleVersion(b: Bundle): BundleVersion {
  const v = bundleVersionOf(b.mediaType);
  if (!v)
    throw new FormatError('mediaType', `unknown bundle media type ${JSON.stringify(b.mediaType.slice(0, 100))}`, { check: 'media-type' });
  return v;
}

/**
 * Parses and validates a bundle given as a parsed JSON value, JSON text or bytes.
 * Every error is a FormatError whose `field` is the JSON path of the offending field.
 */
/** The DER of the signing certificate a bundle carries (the chain's first), if it carries one. */
export function leafCertificateDer(b: Bundle): Uint8Array | undefined {
  const c = b.verificationMaterial?.content;
  if (c?.$case === 'certificate') return c.certificate.rawBytes;
  if (c?.$case === 'x509CertificateChain') return c.x509CertificateChain.certificates[0]?.rawBytes;
  return undefined;
}

export function parseBundle(input: unknown, options: ParseBundleOptions = {}): Bundle {
  const json = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'bundle') : input;
  const o: ReadOptions = { ignoreUnknownFields: options.ignoreUnknownFields ?? false };
  const m = new MessageReader(json, '', ['mediaType', 'verificationMaterial', 'messageSignature', 'dsseEnvelope'], o);

  const mediaType = m.string('mediaType', { required: true });
  const version = bundleVersionOf(mediaType);
  if (!version)
    throw new FormatError('mediaType', `unsupported bundle media type ${JSON.stringify(mediaType.slice(0, 100))}`, {
      check: 'media-type',
      actual: mediaType,
    });

  const verificationMaterial = readVerificationMaterial(m.required('verificationMaterial'), m.at('verificationMaterial'), version, o, {
    allowCertificateChain: options.allowCertificateChain === true,
  });

  let content: Bundle['content'];
  const which = m.oneof(['messageSignature', 'dsseEnvelope'] as const, 'content', true);
  if (which === 'messageSignature') {
    const s = m.requiredMessage('messageSignature', ['messageDigest', 'signature']);
    content = {
      $case: 'messageSignature',
      messageSignature: {
        messageDigest: readHashOutput(s.required('messageDigest'), s.at('messageDigest'), o),
        signature: s.bytes('signature', { required: true }),
      },
    };
  } else {
    content = {
      $case: 'dsseEnvelope',
      dsseEnvelope: readEnvelope(m.required('dsseEnvelope'), m.at('dsseEnvelope'), { ...o, exactlyOneSignature: true }),
    };
  }
  return { mediaType, verificationMaterial, content };
}

function readVerificationMaterial(
  v: unknown,
  path: string,
  version: BundleVersion,
  o: ReadOptions,
  { allowCertificateChain }: { allowCertificateChain: boolean },
): VerificationMaterial {
  const m = new MessageReader(v, path, ['publicKey', 'x509CertificateChain', 'certificate', 'tlogEntries', 'timestampVerificationData'], o);
  const which = m.oneof(['publicKey', 'x509CertificateChain', 'certificate'] as const, 'content', true);
  let content: VerificationMaterial['content'];
  if (which === 'publicKey') {
    const pk = m.requiredMessage('publicKey', ['hint']);
    content = { $case: 'publicKey', publicKey: { hint: pk.string('hint') } };
  } else if (which === 'x509CertificateChain') {
    if (version === '0.3' && !allowCertificateChain) {
      throw new FormatError(
        m.at('x509CertificateChain'),
        'is not allowed in a v0.3 bundle (use certificate, or allow it with --allow-certificate-chain)',
        {
          check: 'bundle-version',
        },
      );
    }
    content = {
      $case: 'x509CertificateChain',
      x509CertificateChain: readCertificateChain(m.raw('x509CertificateChain'), m.at('x509CertificateChain'), o),
    };
  } else {
    content = { $case: 'certificate', certificate: readX509Certificate(m.raw('certificate'), m.at('certificate'), o) };
  }

  const tlogEntries = readList(m, 'tlogEntries', (x, p) => readTransparencyLogEntry(x, p, o));
  if (tlogEntries.length > MAX_TLOG_ENTRIES) {
    throw new FormatError(m.at('tlogEntries'), `has ${tlogEntries.length} entries, at most ${MAX_TLOG_ENTRIES} are allowed`, {
      check: 'limit',
    });
  }
  tlogEntries.forEach((e, i) => {
    const at = `${m.at('tlogEntries')}[${i}]`;
    if (version === '0.1' && !e.inclusionPromise) {
      throw new FormatError(`${at}.inclusionPromise`, 'is required in a v0.1 bundle', { check: 'bundle-version' });
    }
    if (version !== '0.1') {
      if (!e.inclusionProof)
        throw new FormatError(`${at}.inclusionProof`, `is required in a v${version} bundle`, { check: 'bundle-version' });
      if (!e.inclusionProof.checkpoint) {
        throw new FormatError(`${at}.inclusionProof.checkpoint`, `is required in a v${version} bundle`, { check: 'bundle-version' });
      }
    }
  });

  let timestampVerificationData: TimestampVerificationData | undefined;
  const tvd = m.message('timestampVerificationData', ['rfc3161Timestamps']);
  if (tvd) {
    const rfc3161Timestamps = readList(tvd, 'rfc3161Timestamps', (x, p) => {
      const t = new MessageReader(x, p, ['signedTimestamp'], o);
      return { signedTimestamp: t.bytes('signedTimestamp', { required: true }) };
    });
    if (rfc3161Timestamps.length > MAX_TIMESTAMPS) {
      throw new FormatError(
        tvd.at('rfc3161Timestamps'),
        `has ${rfc3161Timestamps.length} timestamps, at most ${MAX_TIMESTAMPS} are allowed`,
        { check: 'limit' },
      );
    }
    timestampVerificationData = { rfc3161Timestamps };
  }
  return { content, tlogEntries, timestampVerificationData };
}

/** The bundle as protojson emits it: lowerCamel keys, proto field order, defaults omitted. */
export function serializeBundle(b: Bundle): Record<string, unknown> {
  const vm = b.verificationMaterial;
  let material: Record<string, unknown> | undefined;
  if (vm) {
    const c = vm.content;
    const tvd = vm.timestampVerificationData;
    material = compact({
      publicKey: c?.$case === 'publicKey' ? compact({ hint: c.publicKey.hint }) : undefined,
      x509CertificateChain: c?.$case === 'x509CertificateChain' ? writeCertificateChain(c.x509CertificateChain) : undefined,
      certificate: c?.$case === 'certificate' ? compact({ rawBytes: b64(c.certificate.rawBytes) }) : undefined,
      tlogEntries: vm.tlogEntries.map(writeTransparencyLogEntry),
      timestampVerificationData: tvd
        ? compact({ rfc3161Timestamps: tvd.rfc3161Timestamps.map((t) => compact({ signedTimestamp: b64(t.signedTimestamp) })) })
        : undefined,
    });
  }
  const c = b.content;
  return compact({
    mediaType: b.mediaType,
    verificationMaterial: material,
    messageSignature:
      c?.$case === 'messageSignature'
        ? compact({
            messageDigest: c.messageSignature.messageDigest ? writeHashOutput(c.messageSignature.messageDigest) : undefined,
            signature: b64(c.messageSignature.signature),
          })
        : undefined,
    dsseEnvelope: c?.$case === 'dsseEnvelope' ? serializeEnvelope(c.dsseEnvelope) : undefined,
  });
}

/** The bundle as JSON text (protojson output, no extra whitespace). */
export function serializeBundleJson(b: Bundle): string {
  return JSON.stringify(serializeBundle(b));
}
