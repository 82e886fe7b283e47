import { FormatError } from '../../core/errors.js';
import { asObject } from '../../core/json.js';
import { DEFAULT_TUF_PERIODS, parseDuration, type TufPeriods } from '../../tuf/index.js';

/** The `tuf` section of the server configuration. */
export interface TufConfig {
  enabled: boolean;
  /** Where the repository is served below the public URL (default `/tuf`). */
  path: string;
  periods: TufPeriods;
}

export const DEFAULT_TUF_CONFIG: Readonly<TufConfig> = Object.freeze({ enabled: true, path: '/tuf', periods: { ...DEFAULT_TUF_PERIODS } });

const EXPIRY_FIELDS = { rootExpiry: 'root', targetsExpiry: 'targets', snapshotExpiry: 'snapshot', timestampExpiry: 'timestamp' } as const;

/** `{"enabled", "path", "rootExpiry", "targetsExpiry", "snapshotExpiry", "timestampExpiry"}`; durations like "30s", "7d". */
export function parseTufConfig(value: unknown, field = 'config.tuf'): TufConfig {
  const o = asObject(value, field);
  const config: TufConfig = {
    enabled: DEFAULT_TUF_CONFIG.enabled,
    path: DEFAULT_TUF_CONFIG.path,
    periods: { ...DEFAULT_TUF_CONFIG.periods },
  };
  for (const k of Object.keys(o)) {
    if (k !== 'enabled' && k !== 'path' && !(k in EXPIRY_FIELDS)) throw new FormatError(`${field}.${k}`, 'unknown field');
  }
  if (o.enabled !== undefined) {
    if (typeof o.enabled !== 'boolean') throw new FormatError(`${field}.enabled`, 'must be true or false');
    config.enabled = o.enabled;
  }
  if (o.path !== undefined) {
    if (typeof o.path !== 'string' || !/^(\/[A-Za-z0-9._-]+)+$/.test(o.path))
      throw new FormatError(`${field}.path`, 'must be a path such as "/tuf"');
    config.path = o.path;
  }
  for (const [name, role] of Object.entries(EXPIRY_FIELDS)) {
    if (o[name] === undefined) continue;
    try {
      config.periods[role] = parseDuration(o[name], `${field}.${name}`);
    } catch (e) {
      throw new FormatError(`${field}.${name}`, (e as Error).message.replace(/^[^:]*: /, ''));
    }
  }
  const p = config.periods;
  // A timestamp that outlives its snapshot (or a snapshot its targets) would be refused by clients.
  if (p.timestamp > p.snapshot) throw new FormatError(`${field}.timestampExpiry`, 'must not be longer than snapshotExpiry');
  return config;
}
