// Ambient identity tokens, read where cosign's providers read them (cosign
// pkg/providers): a file on disk, the SPIFFE Workload API, Google's metadata server or a
// service-account key, the Buildkite agent API. Each takes the environment as data.
import { readFileSync, statSync } from 'node:fs';
import { connect as connectSocket, isIP } from 'node:net';
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

/** Where the SPIFFE Workload API listens: a unix socket, or an IP address and port. */
export type SpiffeEndpoint = { path: string } | { host: string; port: number };

/**
 * `SPIFFE_ENDPOINT_SOCKET` as the SPIFFE Workload Endpoint specification defines it:
 * `unix:///path` (or a bare path), or `tcp://IP:PORT` with an IP address, not a host name.
 * Unset: SPIRE's default socket.
 */
export function spiffeEndpoint(env: Env): SpiffeEndpoint {
  const v = env.SPIFFE_ENDPOINT_SOCKET;
  if (!v) return { path: SPIFFE_DEFAULT_SOCKET };
  if (!v.startsWith('tcp:'))
    return { path: v.startsWith('unix://') ? v.slice('unix://'.length) : v.startsWith('unix:') ? v.slice('unix:'.length) : v };
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    // said below
  }
  const host = url?.hostname.replace(/^\[(.*)\]$/, '$1') ?? '';
  if (!url || isIP(host) === 0 || !url.port || url.username || url.password || !['', '/'].includes(url.pathname) || url.search || url.hash)
    throw new ServiceError(
      'SPIFFE_ENDPOINT_INVALID',
      'SPIFFE Workload API',
      `SPIFFE_ENDPOINT_SOCKET ${v.slice(0, 200)} is not tcp://IP:PORT (an IP address, not a host name, and a port) nor a unix socket`,
    );
  return { host, port: Number(url.port) };
}

const endpointName = (e: SpiffeEndpoint): string =>
  'path' in e ? `unix://${e.path}` : `tcp://${isIP(e.host) === 6 ? `[${e.host}]` : e.host}:${e.port}`;

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
  spiffe: (env: Env): boolean => {
    // As cosign: a unix socket that exists. A tcp:// endpoint only when asked for (--oidc-provider spiffe).
    if (env.SPIFFE_ENDPOINT_SOCKET?.startsWith('tcp:')) return false;
    const endpoint = spiffeEndpoint(env);
    return 'path' in endpoint && exists(endpoint.path);
  },
  'buildkite-agent': (env: Env): boolean => Boolean(env.BUILDKITE_AGENT_ACCESS_TOKEN),
  // cosign's google-impersonate is enabled by GOOGLE_SERVICE_ACCOUNT_NAME; its workload
  // identity only on Google Compute Engine, which Go's metadata client takes
  // GCE_METADATA_HOST to mean. Keyless does not probe the network to find out otherwise.
  google: (env: Env): boolean => Boolean(env.GCE_METADATA_HOST || env.GOOGLE_SERVICE_ACCOUNT_NAME),
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

/** Keyless-only: another base URL for Google's IAM Credentials API (tests, private endpoints). */
export const GOOGLE_IAM_CREDENTIALS_URL_ENV = 'KEYLESS_GOOGLE_IAM_CREDENTIALS_URL';
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const GOOGLE_STS_URI = 'https://sts.googleapis.com/v1/token';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * cosign's `google`. With `GOOGLE_SERVICE_ACCOUNT_NAME` (cosign's google-impersonate): an ID
 * token for that account from the IAM Credentials API, paid for with the application default
 * credentials' access token. Otherwise (google-workload-identity): with
 * `GOOGLE_APPLICATION_CREDENTIALS` naming a service-account key, an ID token from its
 * token_uri; naming external_account credentials (workload identity federation), one from
 * the IAM Credentials API for the service account they impersonate; else the metadata
 * server's identity endpoint (`GCE_METADATA_HOST`, else 169.254.169.254).
 */
export async function googleToken(env: Env, audience: string, policy: CallPolicy = DEFAULT_CALL_POLICY): Promise<string> {
  const target = env.GOOGLE_SERVICE_ACCOUNT_NAME;
  if (target) return impersonatedIdToken(env, target, audience, policy);
  const keyFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (keyFile) {
    const key = readGoogleCredentials(keyFile);
    // As Go's idtoken package: the service account the federated identity may act as signs the ID token.
    if (key.type === 'external_account') return impersonatedIdToken(env, impersonatedAccount(key, keyFile), audience, policy);
    if (key.type !== 'service_account')
      throw new IdentityError(
        'OIDC_FLOW_UNSUPPORTED',
        `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: an ID token needs a service_account key (or GOOGLE_SERVICE_ACCOUNT_NAME to impersonate one), not ${JSON.stringify(key.type)} credentials`,
      );
    const body = await serviceAccountGrant(key, keyFile, { target_audience: audience }, policy);
    return tokenField(body, 'id_token', serviceName('Google token endpoint', key.token_uri));
  }
  const { service, url } = metadataUrl(env, 'identity');
  url.searchParams.set('audience', audience);
  url.searchParams.set('format', 'full');
  const res = await callService({ service, url: url.toString(), headers: { 'Metadata-Flavor': 'Google' } }, policy);
  const jwt = res.body.toString('utf8').trim();
  if (!jwt) throw new ServiceError('SERVICE_BAD_RESPONSE', service, 'the identity endpoint answered no token');
  return jwt;
}

function metadataUrl(env: Env, endpoint: 'identity' | 'token'): { service: string; url: URL } {
  const host = env.GCE_METADATA_HOST || '169.254.169.254';
  return {
    service: serviceName('Google metadata server', `http://${host}`),
    url: new URL(`http://${host}/computeMetadata/v1/instance/service-accounts/default/${endpoint}`),
  };
}

interface GoogleCredentials {
  type: unknown;
  /** The whole file, for the fields of external_account credentials. */
  raw: Record<string, unknown>;
  token_uri: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
}

function readGoogleCredentials(keyFile: string): GoogleCredentials {
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new IdentityError('FILE_UNREADABLE', `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: not a readable JSON file (${fsProblem(e)})`);
  }
  const str = (k: string): string | undefined => (typeof key[k] === 'string' ? (key[k] as string) : undefined);
  return {
    type: key.type,
    raw: key,
    token_uri: str('token_uri') ?? GOOGLE_TOKEN_URI,
    client_email: str('client_email'),
    private_key: str('private_key'),
    private_key_id: str('private_key_id'),
    client_id: str('client_id'),
    client_secret: str('client_secret'),
    refresh_token: str('refresh_token'),
  };
}

async function postForm(service: string, url: string, form: Record<string, string>, policy: CallPolicy): Promise<Record<string, unknown>> {
  const res = await callService(
    {
      service,
      url,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    },
    policy,
  );
  return jsonBody(res, service) as Record<string, unknown>;
}

function tokenField(body: Record<string, unknown>, field: string, service: string): string {
  const v = body?.[field];
  if (typeof v !== 'string' || !v) throw new ServiceError('SERVICE_BAD_RESPONSE', service, `answer has no ${field}`);
  return v;
}

/** A service-account key's JWT-bearer grant (RFC 7523) at its token_uri, asking for `claims` (target_audience or scope). */
async function serviceAccountGrant(
  key: GoogleCredentials,
  keyFile: string,
  claims: Record<string, string>,
  policy: CallPolicy,
): Promise<Record<string, unknown>> {
  if (!key.client_email || !key.private_key)
    throw new IdentityError('TOKEN_MISSING', `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: no client_email or private_key`);
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const payload = { iss: key.client_email, sub: key.client_email, aud: key.token_uri, iat: now, exp: now + 3600, ...claims };
  const input = `${b64(header)}.${b64(payload)}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(key.private_key, 'base64url');
  } catch (e) {
    throw new IdentityError(
      'TOKEN_MISSING',
      `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: the private key cannot sign (${(e as Error).message})`,
    );
  }
  return postForm(
    serviceName('Google token endpoint', key.token_uri),
    key.token_uri,
    { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${input}.${signature}` },
    policy,
  );
}

/** The application default credentials' OAuth access token: a key file (service account or gcloud user), else the metadata server. */
async function googleAccessToken(env: Env, policy: CallPolicy): Promise<string> {
  const keyFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (keyFile) {
    const key = readGoogleCredentials(keyFile);
    const service = serviceName('Google token endpoint', key.token_uri);
    if (key.type === 'service_account')
      return tokenField(await serviceAccountGrant(key, keyFile, { scope: CLOUD_PLATFORM_SCOPE }, policy), 'access_token', service);
    if (key.type === 'external_account') return externalAccountAccessToken(key, keyFile, policy);
    if (key.type === 'authorized_user' && key.client_id && key.client_secret && key.refresh_token) {
      const body = await postForm(
        service,
        key.token_uri,
        { grant_type: 'refresh_token', client_id: key.client_id, client_secret: key.client_secret, refresh_token: key.refresh_token },
        policy,
      );
      return tokenField(body, 'access_token', service);
    }
    throw new IdentityError(
      'OIDC_FLOW_UNSUPPORTED',
      `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: credentials of type ${JSON.stringify(key.type)} are not supported (service_account, authorized_user or external_account)`,
    );
  }
  const { service, url } = metadataUrl(env, 'token');
  const res = await callService({ service, url: url.toString(), headers: { 'Metadata-Flavor': 'Google' } }, policy);
  return tokenField(jsonBody(res, service) as Record<string, unknown>, 'access_token', service);
}

/**
 * The service account an external_account credential acts as, from its
 * `service_account_impersonation_url` (`…/serviceAccounts/EMAIL:generateAccessToken`).
 */
function impersonatedAccount(key: GoogleCredentials, keyFile: string): string {
  const url = key.raw.service_account_impersonation_url;
  const account = typeof url === 'string' ? /\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(url)?.[1] : undefined;
  if (!account)
    throw new IdentityError(
      'OIDC_FLOW_UNSUPPORTED',
      `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}: an ID token from external_account credentials needs service_account_impersonation_url (…/serviceAccounts/EMAIL:generateAccessToken), as Google's own libraries do`,
    );
  return decodeURIComponent(account);
}

/**
 * Workload identity federation (external_account credentials): the subject token from the
 * credential source (a file or a URL), exchanged at Google's STS for an access token, then
 * (with service_account_impersonation_url) for the service account's access token.
 */
async function externalAccountAccessToken(key: GoogleCredentials, keyFile: string, policy: CallPolicy): Promise<string> {
  const raw = key.raw;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const where = `GOOGLE_APPLICATION_CREDENTIALS ${keyFile}`;
  const source = (raw.credential_source ?? {}) as Record<string, unknown>;
  const format = (source.format ?? {}) as Record<string, unknown>;
  const audience = str(raw.audience);
  const subjectTokenType = str(raw.subject_token_type);
  if (!audience || !subjectTokenType)
    throw new IdentityError('TOKEN_MISSING', `${where}: external_account credentials need audience and subject_token_type`);
  let text: string;
  if (str(source.file)) {
    try {
      text = readFileSync(source.file as string, 'utf8');
    } catch (e) {
      throw new IdentityError('FILE_UNREADABLE', `${where}: cannot read the subject token file ${String(source.file)} (${fsProblem(e)})`);
    }
  } else if (str(source.url)) {
    const headers = Object.fromEntries(
      Object.entries((source.headers ?? {}) as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const url = source.url as string;
    text = (await callService({ service: serviceName('subject token source', url), url, headers }, policy)).body.toString('utf8');
  } else {
    throw new IdentityError(
      'OIDC_FLOW_UNSUPPORTED',
      `${where}: only a file or url credential_source is supported (not an executable or AWS source)`,
    );
  }
  let subjectToken: string | undefined = text.trim();
  if (format.type === 'json') {
    const field = str(format.subject_token_field_name) ?? '';
    try {
      subjectToken = str((JSON.parse(text) as Record<string, unknown>)[field]);
    } catch {
      subjectToken = undefined;
    }
  }
  if (!subjectToken) throw new IdentityError('TOKEN_MISSING', `${where}: the credential source holds no subject token`);
  const tokenUrl = str(raw.token_url) ?? GOOGLE_STS_URI;
  const sts = serviceName('Google STS', tokenUrl);
  const federated = tokenField(
    await postForm(
      sts,
      tokenUrl,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        audience,
        scope: CLOUD_PLATFORM_SCOPE,
        requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        subject_token: subjectToken,
        subject_token_type: subjectTokenType,
      },
      policy,
    ),
    'access_token',
    sts,
  );
  const impersonation = str(raw.service_account_impersonation_url);
  if (!impersonation) return federated;
  return iamCredentials(
    impersonation,
    impersonation,
    federated,
    { scope: [CLOUD_PLATFORM_SCOPE], lifetime: '3600s' },
    'accessToken',
    policy,
  );
}

/** A call of Google's IAM Credentials API (a JSON POST paid with `accessToken`): `field` of its answer. */
async function iamCredentials(
  base: string,
  url: string,
  accessToken: string,
  request: unknown,
  field: string,
  policy: CallPolicy,
): Promise<string> {
  const service = serviceName('Google IAM Credentials API', base);
  const res = await callService(
    {
      service,
      url,
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request),
    },
    policy,
  );
  return tokenField(jsonBody(res, service) as Record<string, unknown>, field, service);
}

/** IAM Credentials `generateIdToken` for `target`, with the email claim (cosign's google-impersonate). */
async function impersonatedIdToken(env: Env, target: string, audience: string, policy: CallPolicy): Promise<string> {
  const accessToken = await googleAccessToken(env, policy);
  const base = (env[GOOGLE_IAM_CREDENTIALS_URL_ENV] || 'https://iamcredentials.googleapis.com').replace(/\/+$/, '');
  const url = `${base}/v1/projects/-/serviceAccounts/${encodeURIComponent(target)}:generateIdToken`;
  return iamCredentials(base, url, accessToken, { audience, includeEmail: true }, 'token', policy);
}

// --- SPIFFE Workload API: one unary gRPC call (FetchJWTSVID) over HTTP/2 on a unix socket or TCP.

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
  const endpoint = spiffeEndpoint(env);
  const service = `SPIFFE Workload API at ${endpointName(endpoint)}`;
  // JWTSVIDRequest { repeated string audience = 1; string spiffe_id = 2; }
  const request = lengthDelimited(1, Buffer.from(audience));
  const frame = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), request]);
  frame.writeUInt32BE(request.length, 1);
  // Loaded here, not at the top: every signing command loads this module, and node:http2 costs a few ms to load.
  const { connect: connectHttp2, constants: http2 } = await import('node:http2');
  const { body, status, message } = await new Promise<{ body: Buffer; status: string | undefined; message: string | undefined }>(
    (resolve, reject) => {
      const session = connectHttp2('http://localhost', {
        createConnection: () => ('path' in endpoint ? connectSocket(endpoint.path) : connectSocket(endpoint.port, endpoint.host)),
      });
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
