// Ambient identity tokens, read where cosign's providers read them (cosign
// pkg/providers): a file on disk, the SPIFFE Workload API, Google's metadata server or a
// service-account key, the Buildkite agent API. Each takes the environment as data.
import { readFileSync, statSync } from 'node:fs';
import { connect as connectHttp2, constants as http2 } from 'node:http2';
import { connect as connectSocket } from 'node:net';
import { createSign } from 'node:crypto';
import { callService, jsonBody, serviceName, type CallPolicy, DEFAULT_CALL_POLICY } from './http.js';
import { IdentityError, ServiceError } from './errors.js';
import { fsProblem } from '../core/fs-problem.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where cosign's `filesystem` provider reads the token. */
export const FILESYSTEM_TOKEN_PATH = '/var/run/sigstore/cosign/oidc-token';
/** Keyless-only: another path for the `filesystem` provider (tests, unusual mounts). */
export const FILESYSTEM_TOKEN_PATH_ENV = 'KEYLESS_OIDC_TOKEN_PATH';
/** The SPIFFE Workload API socket: `SPIFFE_ENDPOINT_SOCKET`, else SPIRE's default. */
export const SPIFFE_DEFAULT_SOCKET = '/tmp/spire-agent/public/api.sock';

export function filesystemTokenPath(env: Env): string {
  return env[FILESYSTEM_TOKEN_PATH_ENV] || FILESYSTEM_TOKEN_PATH;
}

export function spiffeSocketPath(env: Env): string {
  const v = env.SPIFFE_ENDPOINT_SOCKET;
  if (!v) return SPIFFE_DEFAULT_SOCKET;
  return v.startsWith('unix://') ? v.slice('unix://'.length) : v.startsWith('unix:') ? v.slice('unix:'.length) : v;
}

const exists = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Which ambient providers this environment offers (cosign's `Enabled` checks). */
export const ambientEnabled = {
  filesystem: (env: Env): boolean => exists(filesystemTokenPath(env)),
  spiffe: (env: Env): boolean => exists(spiffeSocketPath(env)),
  'buildkite-agent': (env: Env): boolean => Boolean(env.BUILDKITE_AGENT_ACCESS_TOKEN),
  // cosign's is enabled on Google Compute Engine only, which Go's metadata client takes
  // GCE_METADATA_HOST to mean; Keyless does not probe the network to find out otherwise.
  google: (env: Env): boolean => Boolean(env.GCE_METADATA_HOST),
};

/** cosign's `filesystem`: the whole file is the token. */
export function filesystemToken(env: Env): string {
  const path = filesystemTokenPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new IdentityError('TOKEN_MISSING', `--oidc-provider filesystem: cannot read ${path} (${fsProblem(e)})`);
  }
  if (!text) throw new IdentityError('TOKEN_MISSING', `--oidc-provider filesystem: ${path} is empty`);
  return text;
}

/**
 * cosign's `buildkite-agent`: the agent API's OIDC endpoint for the running job
 * (`BUILDKITE_AGENT_ACCESS_TOKEN`, `BUILDKITE_JOB_ID`, `BUILDKITE_AGENT_ENDPOINT`).
 */
export async function buildkiteToken(env: Env, audience: string, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<string> {
  const token = env.BUILDKITE_AGENT_ACCESS_TOKEN;
  const job = env.BUILDKITE_JOB_ID;
  if (!token) throw new IdentityError('TOKEN_MISSING', '--oidc-provider buildkite-agent: BUILDKITE_AGENT_ACCESS_TOKEN is not set');
  if (!job) throw new IdentityError('TOKEN_MISSING', '--oidc-provider buildkite-agent: BUILDKITE_JOB_ID is not set');
  const endpoint = (env.BUILDKITE_AGENT_ENDPOINT || 'https://agent.buildkite.com/v3').replace(/\/+$/, '');
  const service = serviceName('Buildkite agent API', endpoint);
  const res = await callService(
    {
      service,
      url: `${endpoint}/jobs/${encodeURIComponent(job)}/oidc/tokens`,
      method: 'POST',
      headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ audience }),
    },
    policy,
  );
  const body = jsonBody(res, service) as { token?: unknown };
  if (typeof body?.token !== 'string' || !body.token) throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'answer has no "token"');
  return body.token;
}

/**
 * cosign's `google`: with `GOOGLE_APPLICATION_CREDENTIALS` naming a service-account key,
 * an ID token from its token_uri (a JWT-bearer grant with target_audience); otherwise the
 * metadata server's identity endpoint (`GCE_METADATA_HOST`, else 169.254.169.254).
 */
export async function googleToken(env: Env, audience: string, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<string> {
  if (env.GOOGLE_SERVICE_ACCOUNT_NAME)
    throw new IdentityError(
      'OIDC_FLOW_UNSUPPORTED',
      '--oidc-provider google: impersonating GOOGLE_SERVICE_ACCOUNT_NAME (IAM Credentials generateIdToken) is not supported by Keyless; use the metadata server or a service-account key in GOOGLE_APPLICATION_CREDENTIALS',
    );
  const keyFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (keyFile) return serviceAccountIdToken(keyFile, audience, policy);
  const host = env.GCE_METADATA_HOST || '169.254.169.254';
  const service = serviceName('Google metadata server', `http://${host}`);
  const url = new URL(`http://${host}/computeMetadata/v1/instance/service-accounts/default/identity`);
  url.searchParams.set('audience', audience);
  url.searchParams.set('format', 'full');
  const res = await callService({ service, url: url.toString(), headers: { 'Metadata-Flavor': 'Google' } }, policy);
  const jwt = res.body.toString('utf8').trim();
  if (!jwt) throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'the identity endpoint answered no token');
  return jwt;
}

async function serviceAccountIdToken(keyFile: string, audience: string, policy: CallPolicy): Promise<string> {
  let key: { type?: unknown; client_email?: unknown; private_key?: unknown; token_uri?: unknown; private_key_id?: unknown };
  try {
    key = JSON.parse(readFileSync(keyFile, 'utf8')) as typeof key;
  } catch (e) {
    throw new IdentityError(
      'FILE_UNREADABLE',
      `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: not a readable JSON file (${(e as Error).message})`,
    );
  }
  if (key.type !== 'service_account')
    throw new IdentityError(
      'OIDC_FLOW_UNSUPPORTED',
      `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: credentials of type ${JSON.stringify(key.type)} are not supported (only service_account keys)`,
    );
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string')
    throw new IdentityError('TOKEN_MISSING', `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: no client_email or private_key`);
  const tokenUri = typeof key.token_uri === 'string' ? key.token_uri : 'https://oauth2.googleapis.com/token';
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const header = { alg: 'RS256', typ: 'JWT', ...(typeof key.private_key_id === 'string' ? { kid: key.private_key_id } : {}) };
  const claims = { iss: key.client_email, sub: key.client_email, aud: tokenUri, iat: now, exp: now + 3600, target_audience: audience };
  const input = `${b64(header)}.${b64(claims)}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(key.private_key, 'base64url');
  } catch (e) {
    throw new IdentityError(
      'TOKEN_MISSING',
      `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: the private key cannot sign (${(e as Error).message})`,
    );
  }
  const service = serviceName('Google token endpoint', tokenUri);
  const res = await callService(
    {
      service,
      url: tokenUri,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: `${input}.${signature}`,
      }).toString(),
    },
    policy,
  );
  const body = jsonBody(res, service) as { id_token?: unknown };
  if (typeof body?.id_token !== 'string' || !body.id_token)
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'answer has no id_token');
  return body.id_token;
}

// --- SPIFFE Workload API: one unary gRPC call (FetchJWTSVID) over HTTP/2 on a unix socket.

/** Protobuf: field `n`, length-delimited. */
function lengthDelimited(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** The length-delimited fields of a protobuf message, by number (other wire types skipped). */
function fields(msg: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  let i = 0;
  const readVarint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= msg.length) throw new Error('truncated varint');
      const b = msg[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  };
  while (i < msg.length) {
    const tag = readVarint();
    const wire = tag & 7;
    const field = Math.floor(tag / 8);
    if (wire === 0) readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = readVarint();
      if (i + len > msg.length) throw new Error('truncated field');
      out.set(field, [...(out.get(field) ?? []), msg.subarray(i, i + len)]);
      i += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** cosign's `spiffe`: a JWT-SVID for `audience` from the Workload API (`SPIFFE_ENDPOINT_SOCKET`). */
export async function spiffeToken(env: Env, audience: string, timeoutMs = 10_000): Promise<string> {
  const socket = spiffeSocketPath(env);
  const service = `SPIFFE Workload API at unix://${socket}`;
  // JWTSVIDRequest { repeated string audience = 1; string spiffe_id = 2; }
  const request = lengthDelimited(1, Buffer.from(audience));
  const frame = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), request]);
  frame.writeUInt32BE(request.length, 1);
  const { body, status, message } = await new Promise<{ body: Buffer; status: string | undefined; message: string | undefined }>(
    (resolve, reject) => {
      const session = connectHttp2('http://localhost', { createConnection: () => connectSocket(socket) });
      const timer = setTimeout(() => {
        session.destroy();
        reject(new ServiceError('SERVICE_TIMEOUT', service, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        session.destroy();
        // A refused connection reaches the stream first, as a cancellation caused by it.
        reject(new ServiceError('SERVICE_UNREACHABLE', service, fsProblem((e as { cause?: unknown }).cause ?? e)));
      };
      session.once('error', fail);
      const stream = session.request({
        [http2.HTTP2_HEADER_METHOD]: 'POST',
        [http2.HTTP2_HEADER_PATH]: '/SpiffeWorkloadAPI/FetchJWTSVID',
        'content-type': 'application/grpc',
        te: 'trailers',
        // The Workload API refuses calls without this header (SPIFFE Workload Endpoint spec).
        'workload.spiffe.io': 'true',
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message: string | undefined;
      const grpcStatus = (h: Record<string, unknown>): void => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
        if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      };
      stream.on('response', grpcStatus);
      stream.on('trailers', grpcStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('error', fail);
      stream.once('end', () => {
        clearTimeout(timer);
        session.close();
        resolve({ body: Buffer.concat(chunks), status, message });
      });
      stream.end(frame);
    },
  );
  if (status !== '0')
    throw new ServiceError(
      'SERVICE_REJECTED',
      service,
      `FetchJWTSVID failed: gRPC status ${status ?? 'missing'}${message ? ` (${message})` : ''}`,
    );
  try {
    if (body.length < 5 || body[0] !== 0) throw new Error('not one uncompressed gRPC message');
    const msg = body.subarray(5, 5 + body.readUInt32BE(1));
    // JWTSVIDResponse { repeated JWTSVID svids = 1; }  JWTSVID { string spiffe_id = 1; string svid = 2; }
    const first = fields(msg).get(1)?.[0];
    const svid = first ? fields(first).get(2)?.[0]?.toString('utf8') : undefined;
    if (!svid) throw new Error('no JWT-SVID in the answer');
    return svid;
  } catch (e) {
    throw new ServiceError('SERVICE_BAD_RESPONSE', service, (e as Error).message);
  }
}
