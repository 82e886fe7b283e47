import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { ServiceError } from './errors.js';

/** How one service call behaves: a timeout per attempt and a few retries with backoff. */
export interface CallPolicy {
  /** Milliseconds per attempt before it is aborted. */
  timeoutMs: number;
  /** Further attempts after the first, for network errors, timeouts, 408, 429 and 5xx. */
  retries: number;
  /** First backoff delay in ms; doubled per retry, with jitter. */
  backoffMs: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = { timeoutMs: 10_000, retries: 2, backoffMs: 100 };

export interface ServiceRequest {
  /** Human name of the service for errors, e.g. `Fulcio at http://127.0.0.1:3000`. */
  service: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Statuses that count as success (default: any 2xx). */
  accept?: (status: number) => boolean;
  /** Statuses handed back to the caller as they are instead of raising (e.g. 409). */
  passThrough?: number[];
}

export interface ServiceResponse {
  status: number;
  /** Header lookup by lower-case name (not the fetch `Headers` global: touching it loads undici, ~20 ms). */
  headers: { get(name: string): string | undefined };
  body: Buffer;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
/** Largest answer read from any service (certificate chains, log entries, timestamps are small). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

// node:http with keep-alive: a third of fetch's per-call cost here, and ~30 ms less to load.
// At most 64 connections per service: `keyless serve` closes a client's connections beyond 64
// (services/http/server.ts, maxConnectionsPerClient), which a 100-file sign-blob on a busy
// machine reached (ECONNRESET); further requests wait in the agent's queue.
const MAX_SOCKETS_PER_SERVICE = 64;
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_SERVICE });
// TLS is loaded only when a service is https (a local stack is plain http).
let https: { agent: import('node:https').Agent; request: typeof import('node:https').request } | undefined;
async function loadHttps(): Promise<NonNullable<typeof https>> {
  if (!https) {
    const m = await import('node:https');
    https = { agent: new m.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_SERVICE }), request: m.request };
  }
  return https;
}

/** One HTTP exchange with timeout, retries and errors that name the service. */
export async function callService(req: ServiceRequest, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<ServiceResponse> {
  const accept = req.accept ?? ((s: number) => s >= 200 && s < 300);
  const method = req.method ?? (req.body === undefined ? 'GET' : 'POST');
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new ServiceError('SERVICE_URL_INVALID', req.service, `${JSON.stringify(req.url)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ServiceError('SERVICE_URL_INVALID', req.service, `unsupported URL scheme ${url.protocol}`);
  let lastError: ServiceError | undefined;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(backoff(policy.backoffMs, attempt));
    let res: ServiceResponse;
    try {
      res = await exchange(url, method, req, policy.timeoutMs, url.protocol === 'https:' ? await loadHttps() : undefined);
    } catch (e) {
      lastError = networkError(req, e, policy);
      continue;
    }
    if (accept(res.status) || req.passThrough?.includes(res.status)) return res;
    lastError = new ServiceError(
      res.status >= 500 ? 'SERVICE_FAILED' : 'SERVICE_REJECTED',
      req.service,
      `${method} ${url.pathname} answered ${res.status}${describeErrorBody(res.body)}`,
      { status: res.status },
    );
    if (!RETRYABLE.has(res.status)) throw lastError;
  }
  throw lastError ?? new ServiceError('SERVICE_UNREACHABLE', req.service, 'no attempt was made');
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

function exchange(url: URL, method: string, req: ServiceRequest, timeoutMs: number, tls: typeof https): Promise<ServiceResponse> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.from(req.body);
    const headers: Record<string, string> = { ...req.headers };
    if (body) headers['Content-Length'] = String(body.length);
    const send = tls ? tls.request : httpRequest;
    const r = send(url, { method, headers, agent: tls ? tls.agent : httpAgent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          r.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const raw = res.headers;
        const headers = {
          get: (name: string): string | undefined => {
            const v = raw[name.toLowerCase()];
            return Array.isArray(v) ? v.join(', ') : v;
          },
        };
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const timer = setTimeout(() => r.destroy(new TimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    r.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    r.end(body);
  });
}

/** Parses a JSON answer, naming the service when it is not JSON. */
export function jsonBody(res: ServiceResponse, service: string): unknown {
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'answered with a body that is not JSON');
  }
}

function networkError(req: ServiceRequest, e: unknown, policy: CallPolicy): ServiceError {
  const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') {
    return new ServiceError('SERVICE_TIMEOUT', req.service, `no answer within ${policy.timeoutMs} ms`, { cause: e });
  }
  const detail = err?.code ?? err?.cause?.code ?? err?.message ?? String(e);
  return new ServiceError('SERVICE_UNREACHABLE', req.service, `cannot be reached (${detail})`, { cause: e });
}

/** The message of a `{code, message}` error body (Fulcio, Rekor, our services), short. */
function describeErrorBody(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 2000));
  try {
    const j = JSON.parse(text) as { message?: unknown };
    if (typeof j?.message === 'string') return `: ${oneLine(j.message)}`;
  } catch {
    /* not JSON */
  }
  return text.trim() ? `: ${oneLine(text)}` : '';
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

function backoff(base: number, attempt: number): number {
  const d = base * 2 ** (attempt - 1);
  return d / 2 + Math.random() * (d / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `Fulcio at http://host:port` from a service kind and its URL. */
export function serviceName(kind: string, url: string): string {
  return `${kind} at ${url}`;
}

/** Joins a base URL and an API path without doubling slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
