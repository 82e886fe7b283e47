// One HTTP exchange with a registry: keep-alive agents, a per-attempt timeout bounded by
// the client's overall deadline, retries with backoff on network errors, 429 and 5xx,
// redirects for reads, and a byte limit on every answer.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { RegistryError } from './errors.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: URL;
}

export interface ExchangeOptions {
  registry: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  /** Answers larger than this are refused (REGISTRY_TOO_LARGE) without being read further. */
  maxBytes: number;
  /** What is being read, for the size-limit message. */
  what: string;
}

export interface RetryPolicy {
  requestTimeoutMs: number;
  retries: number;
  backoffMs: number;
  /** Epoch ms after which nothing more is attempted (the command's --timeout). */
  deadline?: number;
  insecureTls: boolean;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
const MAX_REDIRECTS = 3;

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
// node:https (and TLS with it) is loaded on the first https registry: a loopback registry is
// plain HTTP, and loading TLS costs every such command several ms.
let tlsClient:
  | { request: typeof import('node:https').request; agent: import('node:https').Agent; insecureAgent: import('node:https').Agent }
  | undefined;
async function loadTlsClient(): Promise<NonNullable<typeof tlsClient>> {
  if (!tlsClient) {
    const { Agent, request } = await import('node:https');
    tlsClient = {
      request,
      agent: new Agent({ keepAlive: true, maxSockets: 64 }),
      insecureAgent: new Agent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false }),
    };
  }
  return tlsClient;
}

export class Transport {
  /** HTTP requests sent (every attempt, every redirect): the round trips a command costs. */
  roundTrips = 0;
  constructor(readonly policy: RetryPolicy) {}

  async exchange(o: ExchangeOptions): Promise<HttpAnswer> {
    let last: RegistryError | undefined;
    for (let attempt = 0; attempt <= this.policy.retries; attempt++) {
      if (attempt > 0) await this.#pause(attempt, last);
      let answer: HttpAnswer;
      try {
        answer = await this.#follow(o);
      } catch (e) {
        if (e instanceof RegistryError && e.code !== 'REGISTRY_UNREACHABLE') throw e;
        last = e instanceof RegistryError ? e : this.#networkError(o, e);
        continue;
      }
      if (!RETRYABLE.has(answer.status) || attempt === this.policy.retries) return answer;
      last = new RegistryError('REGISTRY_FAILED', o.registry, `${o.method} ${o.url.pathname} answered ${answer.status}`, {
        status: answer.status,
      });
      (last as RegistryError & { retryAfter?: string }).retryAfter = headerOf(answer.headers, 'retry-after');
    }
    throw last ?? new RegistryError('REGISTRY_UNREACHABLE', o.registry, 'no attempt was made');
  }

  async #pause(attempt: number, last: RegistryError | undefined): Promise<void> {
    const d = this.policy.backoffMs * 2 ** (attempt - 1);
    let ms = d / 2 + Math.random() * (d / 2);
    const retryAfter = Number((last as { retryAfter?: string } | undefined)?.retryAfter);
    if (Number.isFinite(retryAfter) && retryAfter > 0) ms = Math.min(retryAfter * 1000, 10_000);
    if (this.policy.deadline !== undefined && Date.now() + ms >= this.policy.deadline) throw last ?? this.#timeout('');
    await new Promise((r) => setTimeout(r, ms));
  }

  async #follow(o: ExchangeOptions): Promise<HttpAnswer> {
    let url = o.url;
    let headers = o.headers;
    for (let hop = 0; ; hop++) {
      const a = await this.#once(o, url, headers);
      const location = headerOf(a.headers, 'location');
      const readable = o.method === 'GET' || o.method === 'HEAD';
      if (!readable || ![301, 302, 303, 307, 308].includes(a.status) || !location || hop >= MAX_REDIRECTS) return a;
      const next = new URL(location, url);
      // Credentials for the registry are not handed to another origin (blob storage).
      if (next.origin !== url.origin) {
        const { Authorization: _drop, ...rest } = headers;
        headers = rest;
      }
      url = next;
    }
  }

  async #once(o: ExchangeOptions, url: URL, headers: Record<string, string>): Promise<HttpAnswer> {
    const tls = url.protocol === 'https:' ? await loadTlsClient() : undefined;
    const remaining = this.policy.deadline === undefined ? Infinity : this.policy.deadline - Date.now();
    if (remaining <= 0) throw this.#timeout(o.registry);
    const timeoutMs = Math.min(this.policy.requestTimeoutMs, remaining);
    this.roundTrips++;
    return new Promise((resolve, reject) => {
      const send = tls ? tls.request : httpRequest;
      const agent = tls ? (this.policy.insecureTls ? tls.insecureAgent : tls.agent) : httpAgent;
      const h: Record<string, string> = { 'User-Agent': 'keyless', ...headers };
      if (o.body) h['Content-Length'] = String(o.body.length);
      else if (o.method === 'PUT' || o.method === 'POST') h['Content-Length'] = '0';
      let settled = false;
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      };
      const req = send(url, { method: o.method, headers: h, agent }, (res) => {
        const declared = Number(res.headers['content-length']);
        if (o.method !== 'HEAD' && Number.isFinite(declared) && declared > o.maxBytes) {
          req.destroy();
          return fail(tooLarge(o, declared));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > o.maxBytes) {
            req.destroy();
            fail(tooLarge(o, size));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url });
        });
        res.on('error', fail);
      });
      const timer = setTimeout(() => {
        req.destroy();
        fail(this.#timeout(o.registry, timeoutMs, `${o.method} ${url.pathname}`));
      }, timeoutMs);
      req.on('error', fail);
      req.end(o.body);
    });
  }

  #timeout(registry: string, ms?: number, what?: string): RegistryError {
    return new RegistryError(
      'REGISTRY_TIMEOUT',
      registry,
      ms === undefined ? 'gave up: the time allowed (--timeout) ran out' : `no answer within ${ms} ms${what ? ` to ${what}` : ''}`,
    );
  }

  #networkError(o: ExchangeOptions, e: unknown): RegistryError {
    const err = e as Error & { code?: string };
    const code = err?.code ?? err?.message ?? String(e);
    const tlsHint = /CERT|SSL|TLS|self.signed/i.test(code) ? ' (a TLS certificate problem: --allow-insecure-registry skips the check)' : '';
    const plainHint =
      /^EPROTO$/.test(code) || /wrong version number/i.test(err?.message ?? '')
        ? ' (the registry may speak plain HTTP: --allow-http-registry)'
        : '';
    return new RegistryError('REGISTRY_UNREACHABLE', o.registry, `cannot be reached at ${o.url.origin} (${code})${tlsHint}${plainHint}`, {
      cause: e,
    });
  }
}

function tooLarge(o: ExchangeOptions, size: number): RegistryError {
  return new RegistryError('REGISTRY_TOO_LARGE', o.registry, `${o.what} is larger than the ${o.maxBytes}-byte limit (${size} bytes)`, {
    check: 'size-limit',
    expected: `<= ${o.maxBytes}`,
    actual: size,
  });
}

export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
