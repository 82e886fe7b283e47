import { SignError } from './errors.js';

/** A SigningConfig v0.2 service entry, as FORMATS' parser returns it (dates as Date). */
export interface ServiceEntry {
  url: string;
  majorApiVersion: number;
  validFor?: { start?: Date | string | undefined; end?: Date | string | undefined } | undefined;
  operator?: string | undefined;
}

export type Selector = 'ALL' | 'ANY' | 'EXACT';

export interface ServiceConfigurationLike {
  /** Name or protobuf enum number (1 ALL, 2 ANY, 3 EXACT). */
  selector: Selector | number | string;
  count?: number | undefined;
}

export interface SigningConfigLike {
  caUrls: ServiceEntry[];
  oidcUrls?: ServiceEntry[];
  rekorTlogUrls: ServiceEntry[];
  tsaUrls?: ServiceEntry[];
  rekorTlogConfig?: ServiceConfigurationLike | undefined;
  tsaConfig?: ServiceConfigurationLike | undefined;
}

/** The major API versions this client speaks, per service kind. */
export const SUPPORTED_API_VERSIONS = {
  ca: [1],
  oidc: [1],
  tlog: [1, 2],
  tsa: [1],
} as const;

export interface SelectedService {
  url: string;
  majorApiVersion: number;
  operator: string | undefined;
}

export interface SelectedServices {
  ca: SelectedService;
  oidc: SelectedService | undefined;
  tlogs: SelectedService[];
  tsas: SelectedService[];
}

/**
 * Picks services by the SigningConfig v0.2 rules: keep services whose API version this
 * client speaks and whose validity window (inclusive) contains `now`; use only the highest
 * version that has one; newest start first; one per operator; then the CA and OIDC
 * provider are the first, logs and TSAs follow their selector (ALL, ANY, EXACT:n).
 */
export function selectServices(config: SigningConfigLike, now: Date = new Date(), anyPick: AnyPick = firstPick): SelectedServices {
  const cas = eligible(config.caUrls, SUPPORTED_API_VERSIONS.ca, now);
  const ca = cas[0];
  if (!ca) throw noService('certificate authority', 'caUrls', config.caUrls, SUPPORTED_API_VERSIONS.ca, now);
  const oidc = eligible(config.oidcUrls ?? [], SUPPORTED_API_VERSIONS.oidc, now)[0];
  return { ca, oidc, ...selectWitnesses(config, now, anyPick) };
}

/**
 * The transparency logs and timestamp authorities alone, by the same rules: what
 * key-pair signing (`--key`) needs, with or without a CA in the config.
 */
export function selectWitnesses(
  config: Pick<SigningConfigLike, 'rekorTlogUrls' | 'tsaUrls' | 'rekorTlogConfig' | 'tsaConfig'>,
  now: Date = new Date(),
  anyPick: AnyPick = firstPick,
): Pick<SelectedServices, 'tlogs' | 'tsas'> {
  const tlogCandidates = eligible(config.rekorTlogUrls, SUPPORTED_API_VERSIONS.tlog, now);
  if (tlogCandidates.length === 0)
    throw noService('transparency log', 'rekorTlogUrls', config.rekorTlogUrls, SUPPORTED_API_VERSIONS.tlog, now);
  const tlogs = applySelector(tlogCandidates, config.rekorTlogConfig, 'rekorTlogConfig', anyPick);

  const tsaCandidates = eligible(config.tsaUrls ?? [], SUPPORTED_API_VERSIONS.tsa, now);
  const tsas = tsaCandidates.length === 0 ? [] : applySelector(tsaCandidates, config.tsaConfig, 'tsaConfig', anyPick);

  // Rekor v2 gives no time: a signature logged there is only verifiable with a timestamp.
  if (tlogs.some((t) => t.majorApiVersion === 2) && tsas.length === 0) {
    throw new SignError(
      'NO_USABLE_SERVICE',
      'signing config: the selected Rekor v2 log needs a timestamp authority, but tsaUrls has no usable TSA',
      { check: 'tsaUrls' },
    );
  }
  return { tlogs, tsas };
}

/** How ANY chooses among eligible services (default: the newest one, deterministic). */
export type AnyPick = (candidates: SelectedService[]) => SelectedService;
export const firstPick: AnyPick = (c) => c[0] as SelectedService;

/** Services of the highest supported API version that is live at `now`, newest first, one per operator. */
export function eligible(services: ServiceEntry[], versions: readonly number[], now: Date): SelectedService[] {
  const t = now.getTime();
  const live = services
    .filter((s) => versions.includes(s.majorApiVersion))
    .filter((s) => {
      const start = toTime(s.validFor?.start);
      const end = toTime(s.validFor?.end);
      return (start === undefined || start <= t) && (end === undefined || t <= end);
    });
  if (live.length === 0) return [];
  const top = Math.max(...live.map((s) => s.majorApiVersion));
  const ordered = live
    .filter((s) => s.majorApiVersion === top)
    .map((s, i) => ({ s, i, start: toTime(s.validFor?.start) ?? -Infinity }))
    // Newest start first; the config's own order breaks ties.
    .sort((a, b) => b.start - a.start || a.i - b.i);
  const seenOperators = new Set<string>();
  const out: SelectedService[] = [];
  for (const { s } of ordered) {
    const op = s.operator || undefined;
    if (op !== undefined) {
      if (seenOperators.has(op)) continue;
      seenOperators.add(op);
    }
    out.push({ url: s.url, majorApiVersion: s.majorApiVersion, operator: op });
  }
  return out;
}

function applySelector(
  candidates: SelectedService[],
  cfg: ServiceConfigurationLike | undefined,
  field: string,
  anyPick: AnyPick,
): SelectedService[] {
  const selector = normalizeSelector(cfg?.selector, field);
  if (selector === 'ALL') return candidates;
  if (selector === 'ANY') return [anyPick(candidates)];
  const count = cfg?.count ?? 0;
  if (!Number.isInteger(count) || count <= 0) {
    throw new SignError('SIGNING_CONFIG_INVALID', `signing config ${field}: EXACT needs a count greater than 0, got ${count}`, {
      check: field,
    });
  }
  if (candidates.length < count) {
    throw new SignError(
      'NO_USABLE_SERVICE',
      `signing config ${field}: EXACT:${count} but only ${candidates.length} usable service(s) (${candidates.map((c) => c.url).join(', ')})`,
      { check: field, expected: count, actual: candidates.length },
    );
  }
  return candidates.slice(0, count);
}

function normalizeSelector(value: unknown, field: string): Selector {
  // An absent configuration means the single-service default: ANY.
  if (value === undefined) return 'ANY';
  if (value === 'ALL' || value === 1) return 'ALL';
  if (value === 'ANY' || value === 2) return 'ANY';
  if (value === 'EXACT' || value === 3) return 'EXACT';
  throw new SignError('SIGNING_CONFIG_INVALID', `signing config ${field}.selector ${JSON.stringify(value)} is not ALL, ANY or EXACT`, {
    check: field,
    actual: value,
  });
}

function noService(what: string, field: string, services: ServiceEntry[], versions: readonly number[], now: Date): SignError {
  const why =
    services.length === 0
      ? 'the list is empty'
      : services
          .map(
            (s) =>
              `${s.url} (v${s.majorApiVersion}${versions.includes(s.majorApiVersion) ? '' : ', unsupported version'}${windowNote(s, now)})`,
          )
          .join('; ');
  return new SignError(
    'NO_USABLE_SERVICE',
    `signing config has no usable ${what} in ${field} (supported API versions ${versions.join(', ')}; now ${now.toISOString()}): ${why}`,
    { check: field },
  );
}

function windowNote(s: ServiceEntry, now: Date): string {
  const t = now.getTime();
  const start = toTime(s.validFor?.start);
  const end = toTime(s.validFor?.end);
  if (start !== undefined && start > t) return `, not valid before ${new Date(start).toISOString()}`;
  if (end !== undefined && t > end) return `, expired ${new Date(end).toISOString()}`;
  return '';
}

function toTime(v: Date | string | undefined | null): number | undefined {
  if (v === undefined || v === null) return undefined;
  const t = v instanceof Date ? v.getTime() : Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
