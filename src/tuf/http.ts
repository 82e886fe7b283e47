// The one HTTP client of the TUF client: a GET with a size limit and a timeout, written as
// HTTP/1.0 on a plain socket (node:net, or node:tls for https). Every command with a TUF
// cache makes at least two such requests, and node:http's client (its modules, parser and
// agent) costs ~4-5 ms of CPU per process to load and first use (bench/tuf-verify.ts; net
// is loaded anyway by a piped stdout). HTTP/1.0 keeps the protocol small: no chunked
// encoding, no keep-alive, the body ends where the connection does (checked against
// Content-Length when the server sends one); redirects are followed, never from https to
// http. Nothing read here is trusted: every byte goes through the TUF checks (or the
// byte-for-byte comparison with verified cached metadata).
import { connect as connectTcp, type Socket } from 'node:net';

export interface HttpResponse {
  status: number;
  body: Buffer;
  /** The body was larger than allowed (and not read). */
  tooLarge?: boolean;
}

/** Status line and headers beyond this are not a TUF mirror's answer. */
const MAX_HEAD_BYTES = 16_384;
/** Redirects followed (a mirror behind a CDN or a moved bucket), as many as browsers' first few. */
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * `onSent`: called once the first request is written (or the connection failed); `signal`:
 * abandons the request (it rejects). Redirects are followed, up to MAX_REDIRECTS and never
 * from https to http: what they lead to is checked by TUF like anything else.
 */
export async function httpGet(
  url: string,
  maxBytes: number,
  timeoutMs: number,
  onSent?: () => void,
  signal?: AbortSignal,
): Promise<HttpResponse> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const { location, ...response } = await getOnce(current, maxBytes, timeoutMs, hop === 0 ? onSent : undefined, signal);
    if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
    if (hop === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new Error(`a redirect to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`);
    }
    if (current.protocol === 'https:' && next.protocol !== 'https:')
      throw new Error(`a redirect from https to ${next.protocol} (${next.origin}) is not followed`);
    current = next;
  }
}

async function getOnce(
  target: URL,
  maxBytes: number,
  timeoutMs: number,
  onSent: (() => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<HttpResponse & { location?: string }> {
  const url = target.toString();
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`not an http(s) URL: ${url}`);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const socket: Socket =
    target.protocol === 'https:'
      ? (await import('node:tls')).connect({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host })
      : connectTcp(port, host);
  return new Promise<HttpResponse & { location?: string }>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      onSent?.();
      fn();
    };
    // The request is written in the connection's own listener, registered first (by write below).
    if (onSent) socket.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', onSent);
    socket.setTimeout(timeoutMs, () => settle(() => reject(new Error('timeout'))));
    socket.on('error', (e) => settle(() => reject(e)));
    signal?.addEventListener('abort', () => settle(() => reject(new Error('abandoned'))), { once: true });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > maxBytes + MAX_HEAD_BYTES) {
        const head = parseHead(Buffer.concat(chunks));
        settle(() =>
          head
            ? resolve({ status: head.status, body: Buffer.alloc(0), tooLarge: true, ...located(head) })
            : reject(new Error('malformed HTTP response')),
        );
      }
    });
    socket.on('end', () =>
      settle(() => {
        const response = Buffer.concat(chunks);
        const head = parseHead(response);
        if (!head) return reject(new Error('malformed HTTP response'));
        const body = response.subarray(head.bodyStart);
        if (head.contentLength !== undefined && body.length !== head.contentLength)
          return reject(new Error(`truncated HTTP response (${body.length} of ${head.contentLength} bytes)`));
        if (body.length > maxBytes) return resolve({ status: head.status, body: Buffer.alloc(0), tooLarge: true, ...located(head) });
        resolve({ status: head.status, body: Buffer.from(body), ...located(head) });
      }),
    );
    // write, not end: a server may take a half-closed connection for an abandoned request.
    socket.write(
      `GET ${target.pathname}${target.search} HTTP/1.0\r\nHost: ${target.host}\r\nAccept: application/json\r\nUser-Agent: keyless\r\n\r\n`,
    );
  });
}

interface Head {
  status: number;
  bodyStart: number;
  contentLength: number | undefined;
  location: string | undefined;
}

const located = (head: Head): { location?: string } => (head.location === undefined ? {} : { location: head.location });

function parseHead(response: Buffer): Head | undefined {
  const end = response.indexOf('\r\n\r\n');
  if (end < 0 || end > MAX_HEAD_BYTES) return undefined;
  const lines = response.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]!);
  if (!status) return undefined;
  let contentLength: number | undefined;
  let location: string | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    // A 1.0 request must not be answered in chunks; a server that does is not understood.
    if (name === 'transfer-encoding' && value.toLowerCase() !== 'identity') return undefined;
    if (name === 'content-length') {
      if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) return undefined;
      contentLength = Number(value);
    }
    if (name === 'location') location = value;
  }
  return { status: Number(status[1]), bodyStart: end + 4, contentLength, location };
}
