import { parseCertificateCached } from '../../x509/index.js';
import type { EntryPointer, ExplorerLog } from './search.js';

/** Entries per log the live view summarises (the newest ones). */
export const ACTIVITY_WINDOW = 500;

export interface RecentEntry extends EntryPointer {
  /** Unix seconds the log integrated the entry. */
  integratedTime: number;
  identity: string | undefined;
}

export interface Activity {
  /** Newest first, across logs. */
  recent: RecentEntry[];
  /** Signing events per hour (unix seconds of the hour's start), oldest first. */
  perHour: { hour: number; count: number }[];
  /** Most active identities in the window, most active first. */
  identities: { identity: string; count: number }[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

/**
 * The signer's identity in a Rekor v1 or v2 body: the first certificate found in it
 * (v1 keeps PEM in base64 strings, v2 DER in `x509Certificate.rawBytes`). For the
 * summary only: the entry page decodes and checks certificates itself.
 */
export function identityOfBody(body: Uint8Array): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const der = findCertificate(parsed, 0);
  if (!der) return undefined;
  try {
    return parseCertificateCached(der).sigstoreIdentity;
  } catch {
    return undefined;
  }
}

function findCertificate(node: unknown, depth: number): Buffer | undefined {
  if (depth > 8 || node === null || typeof node !== 'object') return undefined;
  const o = node as Record<string, unknown>;
  const x509 = o.x509Certificate as { rawBytes?: unknown } | undefined;
  if (x509 && typeof x509.rawBytes === 'string') return Buffer.from(x509.rawBytes, 'base64');
  for (const v of Object.values(o)) {
    if (typeof v === 'string' && v.startsWith('LS0tLS1CRUdJTi')) {
      const m = PEM_CERT.exec(Buffer.from(v, 'base64').toString('latin1'));
      if (m) return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
    } else if (typeof v === 'object') {
      const found = findCertificate(v, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Summarises the newest entries of each log. Recomputed only when a log has grown
 * (the sizes are the cache key), so a page polling every few seconds costs nothing.
 */
export class ActivityCache {
  private key = '';
  private value: Activity | undefined;
  private pending: Promise<Activity> | undefined;

  constructor(private readonly logs: readonly ExplorerLog[]) {}

  get(): Promise<Activity> {
    const key = this.logs.map((l) => l.log.size).join(',');
    if (this.value && key === this.key) return Promise.resolve(this.value);
    this.pending ??= this.compute().then(
      (v) => {
        this.key = key;
        this.value = v;
        this.pending = undefined;
        return v;
      },
      (e: unknown) => {
        this.pending = undefined;
        throw e;
      },
    );
    return this.pending;
  }

  private async compute(): Promise<Activity> {
    const recent: RecentEntry[] = [];
    for (const { name, log } of this.logs) {
      const size = log.size;
      for (let index = size - 1; index >= Math.max(0, size - ACTIVITY_WINDOW); index--) {
        const e = await log.getEntry(index);
        if (e) recent.push({ log: name, index, integratedTime: e.integratedTime, identity: identityOfBody(e.body) });
      }
    }
    recent.sort((a, b) => b.integratedTime - a.integratedTime || (a.log < b.log ? -1 : 1) || b.index - a.index);
    const hours = new Map<number, number>();
    const identities = new Map<string, number>();
    for (const e of recent) {
      const hour = e.integratedTime - (e.integratedTime % 3600);
      hours.set(hour, (hours.get(hour) ?? 0) + 1);
      if (e.identity) identities.set(e.identity, (identities.get(e.identity) ?? 0) + 1);
    }
    return {
      recent,
      perHour: [...hours].map(([hour, count]) => ({ hour, count })).sort((a, b) => a.hour - b.hour),
      identities: [...identities]
        .map(([identity, count]) => ({ identity, count }))
        .sort((a, b) => b.count - a.count || (a.identity < b.identity ? -1 : 1))
        .slice(0, 10),
    };
  }
}
