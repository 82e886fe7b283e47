import { TufError } from './errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"30s"`, `"15m"`, `"12h"`, `"7d"` (one whole number and a unit) → milliseconds. */
export function parseDuration(value: unknown, field: string): number {
  const m = typeof value === 'string' ? /^([1-9]\d{0,5})([smhd])$/.exec(value) : null;
  if (!m)
    throw new TufError('TUF_DURATION_INVALID', `${field}: ${JSON.stringify(value)} is not a duration such as "30s", "15m", "12h" or "7d"`, {
      check: field,
    });
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Milliseconds back as the shortest exact duration string (for status output). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) if (ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}
