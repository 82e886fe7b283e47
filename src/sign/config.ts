import type { SigningConfigLike } from './services.js';

/**
 * The public-good instance's SigningConfig v0.2 (sigstore/root-signing
 * targets/signing_config.v0.2.json), used when nothing else names the services.
 */
export const PUBLIC_GOOD_SIGNING_CONFIG: SigningConfigLike = {
  caUrls: [
    { url: 'https://fulcio.sigstore.dev', majorApiVersion: 1, validFor: { start: '2022-04-13T20:06:15.000Z' }, operator: 'sigstore.dev' },
  ],
  oidcUrls: [
    { url: 'https://oauth2.sigstore.dev/auth', majorApiVersion: 1, validFor: { start: '2025-04-16T00:00:00Z' }, operator: 'sigstore.dev' },
  ],
  rekorTlogUrls: [
    {
      url: 'https://log2025-1.rekor.sigstore.dev',
      majorApiVersion: 2,
      validFor: { start: '2025-10-06T00:00:00Z' },
      operator: 'sigstore.dev',
    },
    { url: 'https://rekor.sigstore.dev', majorApiVersion: 1, validFor: { start: '2021-01-12T11:53:27Z' }, operator: 'sigstore.dev' },
  ],
  tsaUrls: [
    {
      url: 'https://timestamp.sigstore.dev/api/v1/timestamp',
      majorApiVersion: 1,
      validFor: { start: '2025-07-04T00:00:00Z' },
      operator: 'sigstore.dev',
    },
  ],
  rekorTlogConfig: { selector: 'ANY' },
  tsaConfig: { selector: 'ANY' },
};

export interface ServiceOverrides {
  fulcioUrl?: string | undefined;
  rekorUrl?: string | undefined;
  /** Major API version of `--rekor-url` (1 unless told). */
  rekorVersion?: number | undefined;
  timestampServerUrl?: string | undefined;
  oidcIssuer?: string | undefined;
}

/**
 * A signing config from individual service URLs (cosign's `--fulcio-url`, `--rekor-url`,
 * `--timestamp-server-url`), on top of a base config whose other services stay.
 */
export function withOverrides(base: SigningConfigLike, o: ServiceOverrides): SigningConfigLike {
  const svc = (url: string, majorApiVersion = 1) => ({ url, majorApiVersion });
  return {
    ...base,
    caUrls: o.fulcioUrl ? [svc(o.fulcioUrl)] : base.caUrls,
    oidcUrls: o.oidcIssuer ? [svc(o.oidcIssuer)] : (base.oidcUrls ?? []),
    rekorTlogUrls: o.rekorUrl ? [svc(o.rekorUrl, o.rekorVersion ?? 1)] : base.rekorTlogUrls,
    rekorTlogConfig: o.rekorUrl ? { selector: 'ANY' } : base.rekorTlogConfig,
    tsaUrls: o.timestampServerUrl ? [svc(o.timestampServerUrl)] : (base.tsaUrls ?? []),
    tsaConfig: o.timestampServerUrl ? { selector: 'ANY' } : base.tsaConfig,
  };
}
