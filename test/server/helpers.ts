// Runs `bin/keyless serve` as a real child process on a free port and waits for the URL line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KEYLESS_BIN = join(process.cwd(), 'bin', 'keyless');

export interface ServeProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** stderr so far (warnings, banner). */
  stderr(): string;
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A loopback port free a moment ago (for a server whose address must be known before it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'keyless-server-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServe(options: { dataDir?: string; args?: string[]; timeoutMs?: number } = {}): Promise<ServeProcess> {
  const dataDir = options.dataDir ?? join(tempDir(), 'data');
  const child = spawn(process.execPath, [KEYLESS_BIN, 'serve', '--data-dir', dataDir, '--port', '0', ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      if (code === null) err += `\n[test helper] killed by ${signal}`;
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`keyless serve did not print its URL in time; stderr:\n${err}`)),
      options.timeoutMs ?? 30_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n');
      if (line.length > 1) {
        clearTimeout(timer);
        resolve(line[0]!.trim());
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`keyless serve exited with ${code} before printing its URL; stderr:\n${err}`));
    });
  });
  return {
    url,
    dataDir,
    child,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      if (code !== 0 && signal !== 'SIGKILL') process.stderr.write(`keyless serve exited with ${code}; its stderr:\n${err}\n`);
      return code;
    },
  };
}

/** Runs `bin/keyless ARGS` and collects its output. */
export function runKeyless(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KEYLESS_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(input ?? '');
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One raw signing flow over HTTP (dev IdP token, certificate, Rekor v1 and v2 entries); returns the log indexes. */
export async function signOnce(url: string, email = 'restart@example.com'): Promise<{ v1Index: number; v2Index: number }> {
  const { generateKeyPairSync, sign, createHash, randomBytes } = await import('node:crypto');
  const post = async (path: string, body: string, type = 'application/json') => {
    const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${path}: HTTP ${r.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const token = (
    await post('/oidc/token', `grant_type=client_credentials&email=${encodeURIComponent(email)}`, 'application/x-www-form-urlencoded')
  ).id_token as string;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certRes = await post(
    '/api/v2/signingCert',
    JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ format: 'pem', type: 'spki' }) },
        proofOfPossession: sign('sha256', Buffer.from(email), privateKey).toString('base64'),
      },
    }),
  );
  const leafPem = (certRes.signedCertificateEmbeddedSct as { chain: { certificates: string[] } }).chain.certificates[0]!;
  const artifact = randomBytes(32);
  const digest = createHash('sha256').update(artifact).digest();
  const signature = sign('sha256', artifact, privateKey);
  const v1 = await post(
    '/api/v1/log/entries',
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
        signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(leafPem).toString('base64') } },
      },
    }),
  );
  const leafDer = Buffer.from(leafPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const v2 = await post(
    '/api/v2/log/entries',
    JSON.stringify({
      hashedRekordRequestV002: {
        digest: digest.toString('base64'),
        signature: {
          content: signature.toString('base64'),
          verifier: { x509Certificate: { rawBytes: leafDer.toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' },
        },
      },
    }),
  );
  const v1Entry = Object.values(v1)[0] as { logIndex: number };
  return { v1Index: v1Entry.logIndex, v2Index: Number(v2.logIndex) };
}
