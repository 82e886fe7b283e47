// SigningConfig v0.2 (sigstore_trustroot.proto): strict parsing and protojson output.
import type { SigningConfig, Service, ServiceConfiguration } from '@sigstore/protobuf-specs';
import { FormatError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import { readTimeRange, writeTimeRange } from './common.js';
import { SERVICE_SELECTORS, serviceSelectorName } from './enums.js';
import { MessageReader, compact, readList, type ReadOptions } from './protojson.js';

export type { SigningConfig, Service, ServiceConfiguration };

export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

const SERVICE_LISTS = ['caUrls', 'oidcUrls', 'rekorTlogUrls', 'tsaUrls'] as const;

export function parseSigningConfig(input: unknown, options: ReadOptions = {}): SigningConfig {
  const json = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, 'signingConfig') : input;
  const o = { ignoreUnknownFields: options.ignoreUnknownFields ?? false };
  const m = new MessageReader(json, '', ['mediaType', ...SERVICE_LISTS, 'rekorTlogConfig', 'tsaConfig'], o);
  const mediaType = m.string('mediaType', { required: true });
  if (mediaType !== SIGNING_CONFIG_MEDIA_TYPE) {
    throw new FormatError(
      'mediaType',
      `unsupported signing config media type ${JSON.stringify(mediaType.slice(0, 100))} (expected ${SIGNING_CONFIG_MEDIA_TYPE})`,
      {
        check: 'media-type',
        actual: mediaType,
      },
    );
  }
  const lists = Object.fromEntries(SERVICE_LISTS.map((name) => [name, readList(m, name, (v, p) => readService(v, p, o))])) as Record<
    (typeof SERVICE_LISTS)[number],
    Service[]
  >;
  return {
    mediaType,
    caUrls: lists.caUrls,
    oidcUrls: lists.oidcUrls,
    rekorTlogUrls: lists.rekorTlogUrls,
    rekorTlogConfig: readServiceConfiguration(m, 'rekorTlogConfig', lists.rekorTlogUrls.length),
    tsaUrls: lists.tsaUrls,
    tsaConfig: readServiceConfiguration(m, 'tsaConfig', lists.tsaUrls.length),
  };
}

/** A service URL: absolute http(s), kept exactly as written. */
export function checkServiceUrl(url: string, path: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FormatError(path, `is not an absolute URL: ${JSON.stringify(url.slice(0, 200))}`, { check: 'url' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new FormatError(path, `must be an http or https URL, got ${parsed.protocol}`, { check: 'url' });
  }
  return url;
}

function readService(v: unknown, path: string, o: ReadOptions): Service {
  const m = new MessageReader(v, path, ['url', 'majorApiVersion', 'validFor', 'operator'], o);
  return {
    url: checkServiceUrl(m.string('url', { required: true }), m.at('url')),
    majorApiVersion: m.int32('majorApiVersion', { min: 0 }),
    validFor: readTimeRange(m.required('validFor'), m.at('validFor'), o),
    operator: m.string('operator'),
  };
}

function readServiceConfiguration(parent: MessageReader, name: string, services: number): ServiceConfiguration | undefined {
  const m = parent.message(name, ['selector', 'count']);
  if (!m) return undefined;
  const selector = m.enumValue('selector', SERVICE_SELECTORS, { required: true });
  const count = m.int32('count', { min: 0 });
  if (selector === SERVICE_SELECTORS.EXACT) {
    if (count < 1) throw new FormatError(m.at('count'), 'must be at least 1 with selector EXACT', { check: 'range', actual: count });
    if (count > services) {
      throw new FormatError(m.at('count'), `is ${count} but only ${services} services are listed`, {
        check: 'range',
        actual: count,
        expected: services,
      });
    }
  }
  return { selector, count };
}

export function serializeSigningConfig(sc: SigningConfig): Record<string, unknown> {
  const svc = (s: Service) =>
    compact({
      url: s.url,
      majorApiVersion: s.majorApiVersion,
      validFor: s.validFor ? writeTimeRange(s.validFor) : undefined,
      operator: s.operator,
    });
  const cfg = (c: ServiceConfiguration | undefined) =>
    c ? compact({ selector: c.selector ? serviceSelectorName(c.selector) : undefined, count: c.count }) : undefined;
  return compact({
    mediaType: sc.mediaType,
    caUrls: sc.caUrls.map(svc),
    oidcUrls: sc.oidcUrls.map(svc),
    rekorTlogUrls: sc.rekorTlogUrls.map(svc),
    rekorTlogConfig: cfg(sc.rekorTlogConfig),
    tsaUrls: sc.tsaUrls.map(svc),
    tsaConfig: cfg(sc.tsaConfig),
  });
}
