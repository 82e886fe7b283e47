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
  headers: Headers;
  body: Buffer;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** One HTTP exchange with timeout, retries and errors that name the service. */
export async function callService(req: ServiceRequest, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<ServiceResponse> {
  const accept = req.accept ?? ((s: number) => s >= 200 && s < 300);
  const method = req.method ?? (req.body === undefined ? 'GET' : 'POST');
  let lastError: ServiceError | undefined;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(backoff(policy.backoffMs, attempt));
    let res: Response;
    try {
      res = await fetch(req.url, {
        method,
        headers: req.headers,
        body: req.body,
        signal: AbortSignal.timeout(policy.timeoutMs),
        redirect: 'error',
      });
    } catch (e) {
      lastError = networkError(req, e, policy);
      continue;
    }
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      lastError = networkError(req, e, policy);
      continue;
    }
    if (accept(res.status) || req.passThrough?.includes(res.status)) return { status: res.status, headers: res.headers, body };
    lastError = new ServiceError(res.status >= 500 ? 'SERVICE_FAILED' : 'SERVICE_REJECTED', req.service,
      `${method} ${new URL(req.url).pathname} answered ${res.status}${describeErrorBody(body)}`, { status: res.status });
    if (!RETRYABLE.has(res.status)) throw lastError;
  }
  throw lastError ?? new ServiceError('SERVICE_UNREACHABLE', req.service, 'no attempt was made');
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
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return new ServiceError('SERVICE_TIMEOUT', req.service, `no answer within ${policy.timeoutMs} ms`, { cause: e });
  }
  const detail = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
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
