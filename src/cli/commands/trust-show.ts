// `keyless trusted-root show` / `signing-config show` (loaded only when one runs): where the
// trust comes from and what it holds. Apart from tuf-impl.ts, which loads the server's
// modules (fastify, SQLite, PostgreSQL) for the admin commands.
import { readFileSync } from 'node:fs';
import { KeylessError } from '../../core/errors.js';
import { resolveTrust, tufCacheDir, type TrustKind } from '../trust-resolution.js';

const out = (s: string) => process.stdout.write(s);

// Trusted roots and signing configs are shown as read, fields looked up loosely (display only).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function validity(v: Json | undefined): string {
  if (!v?.start) return '';
  return ` valid from ${v.start}${v.end ? ` to ${v.end}` : ''}`;
}

function describeTrustedRoot(root: Json): string {
  const lines: string[] = [];
  const hex = (b64: string | undefined) => (b64 ? Buffer.from(b64, 'base64').toString('hex') : '?');
  const section = (title: string, items: Json[] | undefined, fmt: (i: Json) => string) => {
    lines.push(`${title}:`);
    if (!items?.length) lines.push('  (none)');
    for (const i of items ?? []) lines.push(`  ${fmt(i)}`);
  };
  section(
    'Certificate authorities',
    root.certificateAuthorities,
    (c) => `${c.uri ?? '?'}  ${c.subject?.commonName ?? c.subject?.organization ?? ''}${validity(c.validFor)}`,
  );
  section('Transparency logs', root.tlogs, (l) => `${l.baseUrl}  log ID ${hex(l.logId?.keyId)}${validity(l.publicKey?.validFor)}`);
  section('CT logs', root.ctlogs, (l) => `${l.baseUrl}  log ID ${hex(l.logId?.keyId)}${validity(l.publicKey?.validFor)}`);
  section(
    'Timestamp authorities',
    root.timestampAuthorities,
    (t) => `${t.uri ?? '?'}  ${t.subject?.commonName ?? ''}${validity(t.validFor)}`,
  );
  return `${lines.join('\n')}\n`;
}

function describeSigningConfig(config: Json): string {
  const lines: string[] = [];
  const section = (title: string, items: Json[] | undefined, selector?: Json) => {
    lines.push(`${title}${selector?.selector ? ` (selector ${selector.selector}${selector.count ? ` ${selector.count}` : ''})` : ''}:`);
    if (!items?.length) lines.push('  (none)');
    for (const s of items ?? [])
      lines.push(`  ${s.url}  API v${s.majorApiVersion ?? '?'}${validity(s.validFor)}${s.operator ? `  operator ${s.operator}` : ''}`);
  };
  section('Certificate authorities', config.caUrls);
  section('OIDC providers', config.oidcUrls);
  section('Transparency logs', config.rekorTlogUrls, config.rekorTlogConfig);
  section('Timestamp authorities', config.tsaUrls, config.tsaConfig);
  return `${lines.join('\n')}\n`;
}

export async function showTrustCommand(
  kind: TrustKind,
  opts: { trustedRoot?: string; signingConfig?: string; offline?: boolean; json?: boolean },
): Promise<void> {
  const flag = kind === 'trusted-root' ? opts.trustedRoot : opts.signingConfig;
  const resolved = await resolveTrust(kind, flag, { offline: opts.offline === true });
  let content: Json;
  if (resolved.path === undefined) {
    content =
      kind === 'trusted-root'
        ? ((await import('../../verify/index.js')).PRODUCTION_TRUSTED_ROOT as Json)
        : ((await import('../../sign/config.js')).PUBLIC_GOOD_SIGNING_CONFIG as unknown as Json);
  } else {
    try {
      content = JSON.parse(readFileSync(resolved.path, 'utf8')) as Json;
    } catch (e) {
      throw new KeylessError(
        'FILE_UNREADABLE',
        `cannot read the ${kind} ${resolved.path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
  if (opts.json) {
    out(`${JSON.stringify(content, null, 2)}\n`);
    return;
  }
  const source = {
    flag: `${resolved.detail} ${resolved.path}`,
    env: `${resolved.detail}=${resolved.path}`,
    tuf: `TUF mirror ${resolved.detail} (cache ${tufCacheDir()})`,
    'built-in': `built-in (${resolved.detail})`,
  }[resolved.source];
  out(`Source: ${source}\n`);
  if (resolved.tuf) {
    const t = resolved.tuf;
    out(
      `  root v${t.versions.root} (expires ${t.expires.root}), targets v${t.versions.targets} (expires ${t.expires.targets}), snapshot v${t.versions.snapshot}, timestamp v${t.versions.timestamp} (expires ${t.expires.timestamp})\n`,
    );
    out(`  file ${resolved.path}\n`);
  }
  if (content.mediaType) out(`Media type: ${content.mediaType}\n`);
  out(kind === 'trusted-root' ? describeTrustedRoot(content) : describeSigningConfig(content));
}
