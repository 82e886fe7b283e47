// Reading a log over HTTP: retries with backoff while the log is unreachable or busy
// (up to a deadline), a clear garbled-log error for answers that make no sense, and an
// ordered pipeline of bounded parallel fetches for the scan.
import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { MonitorError, garbled } from './errors.js';

export interface Fetcher {
  /** GET or POST; resolves with the body of a 2xx answer. `signal` abandons the request (and its retries). */
  request(
    url: string,
    init?: { method?: string; body?: string; allowNotFound?: boolean; signal?: AbortSignal; pool?: BufferPool },
  ): Promise<Buffer | undefined>;
}

/**
 * Reusable answer buffers for a scan. Each answer a scan keeps until its turn comes
 * outlives a few young-generation collections, and V8 frees the memory of such old
 * buffers only at a full collection, which a fast scan rarely triggers: RSS climbed by the
 * size of everything read. A body of announced length goes into a pooled buffer instead,
 * handed back (`release`) once the scan has hashed and matched it, so memory stays at
 * about one buffer per request in flight.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly ours = new WeakSet<object>();

  constructor(private readonly keep: number) {}

  /** A buffer of exactly `length` bytes (a view of a pooled one). */
  take(length: number): Buffer {
    let b = this.free.pop();
    if (!b || b.length < length) {
      // A quarter more than asked: answers of one scan differ a little in size.
      b = Buffer.allocUnsafeSlow(Math.max(length + (length >> 2), 1 << 16));
      this.ours.add(b.buffer);
    }
    return b.subarray(0, length);
  }

  /** Hands back a body `take` made; nothing may read it afterwards. Bodies from elsewhere are ignored. */
  release(body: Buffer | undefined): void {
    if (!body || !this.ours.has(body.buffer) || this.free.length >= this.keep) return;
    this.free.push(Buffer.from(body.buffer));
  }
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

/**
 * One HTTP exchange with node:http (keep-alive): a scan makes thousands of small requests,
 * and fetch costs several times more CPU per request. `limitMs` bounds the whole exchange,
 * not only the silences between packets: a log that trickles an answer cannot hold it longer.
 */
function exchange(
  url: string,
  method: string,
  body: string | undefined,
  headers: Record<string, string>,
  limitMs: number,
  agents: { http: HttpAgent; https: HttpsAgent },
  signals: readonly AbortSignal[],
  pool: BufferPool | undefined,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { method, headers, agent: u.protocol === 'https:' ? agents.https : agents.http }, (res: IncomingMessage) => {
      // One buffer of the announced length: a scan reads hundreds of megabytes, and
      // gathering chunks then concatenating them would allocate all of it twice.
      const announced = Number(res.headers['content-length']);
      const sized = Number.isSafeInteger(announced) && announced >= 0 && announced <= MAX_BODY;
      if (Number.isSafeInteger(announced) && announced > MAX_BODY) {
        res.destroy();
        reject(garbled(url, `answer larger than ${MAX_BODY} bytes`));
        return;
      }
      const whole = sized ? (pool?.take(announced) ?? Buffer.allocUnsafe(announced)) : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size + c.length > (whole ? whole.length : MAX_BODY)) {
          res.destroy();
          reject(garbled(url, whole ? `answer longer than its Content-Length ${whole.length}` : `answer larger than ${MAX_BODY} bytes`));
          return;
        }
        if (whole) c.copy(whole, size);
        else chunks.push(c);
        size += c.length;
      });
      res.once('end', () => {
        if (whole && size !== whole.length) {
          reject(garbled(url, `answer shorter than its Content-Length ${whole.length}`));
          return;
        }
        resolve({ status: res.statusCode ?? 0, body: whole ?? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) });
      });
      res.once('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${Math.round(limitMs / 1000)} s`)), limitMs);
    const abort = () => req.destroy(new Error('stopped'));
    for (const s of signals) s.addEventListener('abort', abort, { once: true });
    req.once('close', () => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', abort);
    });
    req.once('error', reject);
    req.end(body);
  });
}

export function httpFetcher(options: FetcherOptions): Fetcher {
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 64 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 64 }) };
  // Every request in flight listens to it: no "possible leak" warning for a busy scan.
  if (options.signal) setMaxListeners(0, options.signal);
  return {
    async request(url, init = {}) {
      // Listened to directly (one listener per request, removed when it ends), not through a
      // combined signal that would live as long as the fetcher's own.
      const signals = [init.signal, options.signal].filter((s) => s !== undefined);
      const stopped = () => signals.some((s) => s.aborted);
      const deadline = Date.now() + options.timeoutMs;
      let delay = 100;
      let last: string;
      for (;;) {
        if (stopped()) throw new MonitorError('MONITOR_LOG_UNREACHABLE', `${url}: stopped`);
        try {
          const res = await exchange(
            url,
            init.method ?? 'GET',
            init.body,
            { ...(init.body ? { 'content-type': 'application/json' } : {}), 'user-agent': options.userAgent ?? 'keyless-monitor' },
            Math.max(1000, Math.min(30_000, deadline - Date.now())),
            agents,
            signals,
            init.pool,
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
        if (stopped()) throw new MonitorError('MONITOR_LOG_UNREACHABLE', `${url}: stopped`);
        if (Date.now() + delay > deadline) {
          throw new MonitorError(
            'MONITOR_LOG_UNREACHABLE',
            `${url}: no answer within ${Math.round(options.timeoutMs / 1000)} s (${last})`,
            { check: 'reachable' },
          );
        }
        await sleep(delay, signals);
        delay = Math.min(delay * 2, 5000);
      }
    },
  };
}

/** Waits `ms`, or less if one of `signals` aborts meanwhile. */
function sleep(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `fn` over `count` jobs with at most `concurrency` in flight and yields the results
 * in job order (the tree is hashed in leaf order while later fetches are on the wire).
 * When the consumer stops early (an error, an inconsistent log), the jobs still in flight
 * are aborted through their signal, so nothing keeps retrying a log nobody reads.
 */
export async function* orderedParallel<T>(
  count: number,
  concurrency: number,
  fn: (job: number, signal: AbortSignal) => Promise<T>,
): AsyncGenerator<T> {
  const pending = new Map<number, Promise<T>>();
  const stop = new AbortController();
  // Each request in flight listens for the abort (and its retry wait too).
  setMaxListeners(2 * concurrency + 10, stop.signal);
  let next = 0;
  const fill = () => {
    while (next < count && pending.size < concurrency) {
      const p = fn(next, stop.signal);
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
    stop.abort();
    pending.clear();
  }
}
