// `keyless bundle inspect FILE [--json]`: what a bundle holds, for a person or a script,
// without verifying anything (and saying so). Every string from the bundle is escaped.
import { readFileSync, statSync } from 'node:fs';
import { KeylessError } from '../../core/errors.js';
import { hashAlgorithmName, leafCertificateDer, parseBundle, parseStatement, type Bundle } from '../../formats/index.js';
import { parseCertificate, parseSignedTimestamp, type Certificate } from '../../x509/index.js';
import { fsProblem } from '../fs-problem.js';
import { expectDocument } from '../documents.js';
import { printable, printableJson } from '../printable.js';
import { MAX_BUNDLE_BYTES } from './verify-command.js';

export interface BundleReport {
  verified: false;
  mediaType: string;
  content: 'messageSignature' | 'dsseEnvelope';
  certificate?: {
    identity?: string;
    issuer?: string;
    extensions: Record<string, string>;
    notBefore: string;
    notAfter: string;
    serial: string;
    issuedBy: string;
  };
  publicKeyHint?: string;
  messageDigest?: { algorithm: string; hex: string };
  tlogEntries: Array<{
    logIndex: string;
    integratedTime?: string;
    kind: string;
    logId: string;
    inclusionProof: boolean;
    inclusionPromise: boolean;
  }>;
  timestamps: Array<{ genTime?: string; authority?: string; error?: string }>;
  dsse?: { payloadType: string; statement?: unknown; error?: string };
}

function certificateOf(b: Bundle): Certificate | undefined {
  const der = leafCertificateDer(b);
  return der ? parseCertificate(der) : undefined;
}

export function bundleReport(b: Bundle): BundleReport {
  const vm = b.verificationMaterial;
  const cert = certificateOf(b);
  const report: BundleReport = {
    verified: false,
    mediaType: b.mediaType,
    content: b.content?.$case === 'dsseEnvelope' ? 'dsseEnvelope' : 'messageSignature',
    tlogEntries: (vm?.tlogEntries ?? []).map((e) => ({
      logIndex: String(e.logIndex),
      integratedTime:
        e.integratedTime && String(e.integratedTime) !== '0' ? new Date(Number(e.integratedTime) * 1000).toISOString() : undefined,
      kind: `${e.kindVersion?.kind}/${e.kindVersion?.version}`,
      logId: e.logId ? Buffer.from(e.logId.keyId).toString('hex') : '',
      inclusionProof: e.inclusionProof !== undefined,
      inclusionPromise: e.inclusionPromise !== undefined,
    })),
    timestamps: (vm?.timestampVerificationData?.rfc3161Timestamps ?? []).map((t) => {
      try {
        const token = parseSignedTimestamp(t.signedTimestamp);
        return { genTime: token.tstInfo.genTime.toISOString(), authority: token.certificates[0]?.subject.toString() };
      } catch (e) {
        return { error: (e as Error).message };
      }
    }),
  };
  if (cert) {
    report.certificate = {
      identity: cert.sigstoreIdentity,
      issuer: cert.oidcIssuer,
      extensions: { ...cert.sigstoreExtensionsByName },
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      serial: cert.serial,
      issuedBy: cert.issuer.toString(),
    };
  }
  if (vm?.content?.$case === 'publicKey') report.publicKeyHint = vm.content.publicKey.hint ?? '';
  if (b.content?.$case === 'messageSignature' && b.content.messageSignature.messageDigest) {
    const md = b.content.messageSignature.messageDigest;
    report.messageDigest = { algorithm: hashAlgorithmName(md.algorithm), hex: Buffer.from(md.digest).toString('hex') };
  }
  if (b.content?.$case === 'dsseEnvelope') {
    const env = b.content.dsseEnvelope;
    report.dsse = { payloadType: env.payloadType };
    try {
      parseStatement(env.payload);
      report.dsse.statement = JSON.parse(Buffer.from(env.payload).toString('utf8'));
    } catch (e) {
      report.dsse.error = (e as Error).message;
    }
  }
  return report;
}

function text(r: BundleReport): string {
  const lines = [
    'NOT VERIFIED: this shows what the bundle claims; verify it with keyless verify-blob',
    `bundle:        ${r.mediaType} (${r.content})`,
  ];
  if (r.certificate) {
    const c = r.certificate;
    lines.push(
      `identity:      ${c.identity ?? '(none)'}`,
      `issuer:        ${c.issuer ?? '(none)'}`,
      `valid:         ${c.notBefore} to ${c.notAfter}`,
      `issued by:     ${c.issuedBy} (serial ${c.serial})`,
    );
    for (const [name, value] of Object.entries(c.extensions)) lines.push(`  ${name}: ${value}`);
  }
  if (r.publicKeyHint !== undefined) lines.push(`public key:    hint ${r.publicKeyHint || '(none)'}`);
  if (r.messageDigest) lines.push(`digest:        ${r.messageDigest.algorithm} ${r.messageDigest.hex}`);
  for (const e of r.tlogEntries) {
    lines.push(
      `log entry:     index ${e.logIndex}, ${e.kind}, ${e.integratedTime ? `integrated ${e.integratedTime}` : 'no integrated time'}, log ${e.logId.slice(0, 16)}…${e.inclusionProof ? ', inclusion proof' : ''}${e.inclusionPromise ? ', SET' : ''}`,
    );
  }
  for (const t of r.timestamps)
    lines.push(
      t.error
        ? `timestamp:     unreadable (${t.error})`
        : `timestamp:     ${t.genTime} by ${t.authority ?? '(TSA certificate not embedded)'}`,
    );
  if (r.dsse) {
    lines.push(`payload type:  ${r.dsse.payloadType}`);
    const s = r.dsse.statement as
      { predicateType?: string; subject?: Array<{ name?: string; digest?: Record<string, string> }>; predicate?: unknown } | undefined;
    if (s) {
      lines.push(`predicate:     ${s.predicateType}`);
      for (const sub of s.subject ?? [])
        lines.push(
          `subject:       ${sub.name} ${Object.entries(sub.digest ?? {})
            .map(([a, d]) => `${a}:${d}`)
            .join(' ')}`,
        );
      lines.push(
        ...JSON.stringify(s.predicate, null, 2)
          .split('\n')
          .map((l) => `  ${l}`),
      );
    } else if (r.dsse.error) lines.push(`statement:     not an in-toto statement (${r.dsse.error})`);
  }
  return `${lines.map(printable).join('\n')}\n`;
}

export function bundleInspectCommand(file: string, flags: { json?: boolean }): void {
  let bytes: Buffer;
  try {
    if (statSync(file).size > MAX_BUNDLE_BYTES)
      throw new KeylessError('INPUT_TOO_LARGE', `bundle ${file} is larger than the ${MAX_BUNDLE_BYTES}-byte limit`, { check: 'input' });
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof KeylessError) throw e;
    throw new KeylessError('FILE_UNREADABLE', `cannot read bundle ${file}: ${fsProblem(e)}`, { check: 'input' });
  }
  expectDocument(bytes, 'bundle', `bundle ${file}`);
  const report = bundleReport(parseBundle(bytes));
  process.stdout.write(flags.json ? `${printableJson(report, 2)}\n` : text(report));
}
