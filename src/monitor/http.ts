// Reading a log over HTTP: retries with backoff while the log is unreachable or busy
// (up to a deadline), a clear garbled-log error for answers that make no sense, and an
// ordered pipeline of bounded parallel fetches for the scan.
import { MonitorError, garbled } from './errors.js';

export interface Fetcher {
  /** GET or POST; resolves with the body of a 2xx answer. */
  request(url: string, init?: { method?: string; body?: string; allowNotFound?: boolean }): Promise<Buffer | undefined>;
}

export interface FetcherOptions {
  /** How long to keep retrying an unreachable or failing log, in ms (default 60 s). */
  timeoutMs: number;
  userAgent?: string;
  /** Abort everything (service mode stops). */
  signal?: AbortSignal;
}

const MAX_BODY = 64 * 1024 * 1024;

/** Answers worth retrying: the log is busy or failing, not wrong. */
const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export function httpFetcher(options: FetcherOptions): Fetcher {
  return {
    async request(url, init = {}) {
      const deadline = Date.now() + options.timeoutMs;
      let delay = 100;
      let last: string;
      for (;;) {
        if (options.signal?.aborted) throw new MonitorError('MONITOR_LOG_UNREACHABLE', `${url}: stopped`);
        try {
          const res = await fetch(url, {
            method: init.method ?? 'GET',
            headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), 'user-agent': options.userAgent ?? 'keyless-monitor' },
            body: init.body,
            signal: AbortSignal.timeout(Math.max(1000, Math.min(30_000, deadline - Date.now()))),
          });
          const status = res.status;
          if (res.ok) {
            const buf = Buffer.from(await res.arrayBuffer());
            if (buf.length > MAX_BODY) throw garbled(url, `answer larger than ${MAX_BODY} bytes`);
            return buf;
          }
          const text = (await res.text()).slice(0, 200);
          if (status === 404 && init.allowNotFound) return undefined;
          if (!RETRY_STATUS.has(status)) throw garbled(url, `HTTP ${status}: ${text}`);
          last = `HTTP ${status}`;
        } catch (e) {
          if (e instanceof MonitorError) throw e;
          last = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
        }
        if (Date.now() + delay > deadline) {
          throw new MonitorError(
            'MONITOR_LOG_UNREACHABLE',
            `${url}: no answer within ${Math.round(options.timeoutMs / 1000)} s (${last})`,
            { check: 'reachable' },
          );
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    },
  };
}

/**
 * Runs `fn` over `count` jobs with at most `concurrency` in flight and yields the results
 * in job order (the tree is hashed in leaf order while later fetches are on the wire).
 */
export async function* orderedParallel<T>(count: number, concurrency: number, fn: (job: number) => Promise<T>): AsyncGenerator<T> {
  const pending = new Map<number, Promise<T>>();
  let next = 0;
  const fill = () => {
    while (next < count && pending.size < concurrency) {
      const p = fn(next);
      p.catch(() => undefined); // observed when its turn comes
      pending.set(next, p);
      next++;
    }
  };
  try {
    for (let i = 0; i < count; i++) {
      fill();
      const value = await pending.get(i)!;
      pending.delete(i);
      yield value;
    }
  } finally {
    pending.clear();
  }
}
