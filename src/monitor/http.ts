// Reading a log over HTTP: retries with backoff while the log is unreachable or busy
// (up to a deadline), a clear garbled-log error for answers that make no sense, and an
// ordered pipeline of bounded parallel fetches for the scan.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

/** One HTTP exchange with node:http (keep-alive): a scan makes thousands of small requests, and fetch costs several times more CPU per request. */
function exchange(
  url: string,
  method: string,
  body: string | undefined,
  headers: Record<string, string>,
  timeoutMs: number,
  agents: { http: HttpAgent; https: HttpsAgent },
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      { method, headers, agent: u.protocol === 'https:' ? agents.https : agents.http, timeout: timeoutMs },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) {
            res.destroy();
            reject(garbled(url, `answer larger than ${MAX_BODY} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)));
    req.once('error', reject);
    req.end(body);
  });
}

export function httpFetcher(options: FetcherOptions): Fetcher {
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 64 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 64 }) };
  return {
    async request(url, init = {}) {
      const deadline = Date.now() + options.timeoutMs;
      let delay = 100;
      let last: string;
      for (;;) {
        if (options.signal?.aborted) throw new MonitorError('MONITOR_LOG_UNREACHABLE', `${url}: stopped`);
        try {
          const res = await exchange(
            url,
            init.method ?? 'GET',
            init.body,
            { ...(init.body ? { 'content-type': 'application/json' } : {}), 'user-agent': options.userAgent ?? 'keyless-monitor' },
            Math.max(1000, Math.min(30_000, deadline - Date.now())),
            agents,
          );
          const status = res.status;
          if (status >= 200 && status < 300) return res.body;
          const text = res.body.toString('utf8', 0, Math.min(res.body.length, 200));
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
