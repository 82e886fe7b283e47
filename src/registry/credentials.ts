// Registry credentials: given on the command line, or from Docker's config.json (`auths`,
// `credsStore`, `credHelpers`), exactly as `docker login` leaves them. Never printed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

export type Credentials =
  | { kind: 'basic'; username: string; password: string }
  /** An OAuth2 refresh token (`identitytoken`) exchanged at the token endpoint. */
  | { kind: 'identity-token'; username?: string; token: string }
  /** A bearer token sent as it is (`--registry-token`). */
  | { kind: 'bearer'; token: string };

/** Looks up credentials for a registry (`host[:port]`); undefined means anonymous. */
export type CredentialSource = (registry: string) => Promise<Credentials | undefined>;

export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The keys `docker login` may have stored a registry under. */
function configKeys(registry: string): string[] {
  if (registry === DOCKER_HUB)
    return [DOCKER_HUB_CONFIG_KEY, 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

/**
 * Credentials from `<dir>/config.json` (the CLI passes `$DOCKER_CONFIG` or `~/.docker`).
 * A missing file means anonymous; an unreadable or malformed one is an error.
 */
export function dockerConfigCredentials(dir: string, runHelper: HelperRunner = runCredentialHelper): CredentialSource {
  let loaded: DockerConfig | null | undefined;
  const path = join(dir, 'config.json');
  const load = (registry: string): DockerConfig | null => {
    if (loaded !== undefined) return loaded;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return (loaded = null);
      throw new RegistryError(
        'REGISTRY_CREDENTIALS_UNREADABLE',
        registry,
        `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        { check: 'credentials' },
      );
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      return (loaded = parsed as DockerConfig);
    } catch (e) {
      throw new RegistryError('REGISTRY_CREDENTIALS_UNREADABLE', registry, `${path} is not valid JSON (${(e as Error).message})`, {
        check: 'credentials',
      });
    }
  };
  return async (registry) => {
    const config = load(registry);
    if (!config) return undefined;
    const keys = configKeys(registry);
    const helper =
      keys.map((k) => config.credHelpers?.[k]).find((h) => typeof h === 'string' && h !== '') ??
      (typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined);
    if (helper) {
      const found = await runHelper(helper, registry === DOCKER_HUB ? DOCKER_HUB_CONFIG_KEY : registry);
      if (found) return found;
    }
    for (const k of keys) {
      const entry = config.auths?.[k];
      if (!entry || typeof entry !== 'object') continue;
      if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '')
        return { kind: 'identity-token', token: entry.identitytoken };
      if (typeof entry.auth === 'string' && entry.auth !== '') {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const sep = decoded.indexOf(':');
        if (sep < 0)
          throw new RegistryError(
            'REGISTRY_CREDENTIALS_UNREADABLE',
            registry,
            `the "auth" entry for ${k} in ${path} is not base64 of user:password`,
            { check: 'credentials' },
          );
        return { kind: 'basic', username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
      }
      if (typeof entry.username === 'string' && typeof entry.password === 'string')
        return { kind: 'basic', username: entry.username, password: entry.password };
    }
    return undefined;
  };
}

export type HelperRunner = (helper: string, serverUrl: string) => Promise<Credentials | undefined>;

/** `docker-credential-<helper> get` with the server on stdin; "not found" means anonymous. */
export async function runCredentialHelper(helper: string, serverUrl: string): Promise<Credentials | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    throw new RegistryError(
      'REGISTRY_CREDENTIALS_UNREADABLE',
      serverUrl,
      `credential helper name ${JSON.stringify(helper)} is not a plain name`,
      { check: 'credentials' },
    );
  }
  const program = `docker-credential-${helper}`;
  // Loaded only when a helper is configured: node:child_process costs every command a few ms to load.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        new RegistryError(
          'REGISTRY_CREDENTIALS_UNREADABLE',
          serverUrl,
          `cannot run credential helper ${program} (${e.code ?? e.message})`,
          { check: 'credentials' },
        ),
      );
    });
    child.on('close', (code) => {
      if (code !== 0) {
        // The helpers' protocol: this text means "no credentials stored for that server".
        if (/credentials not found/i.test(out + err)) return resolve(undefined);
        return reject(
          new RegistryError('REGISTRY_CREDENTIALS_UNREADABLE', serverUrl, `credential helper ${program} failed (exit ${code})`, {
            check: 'credentials',
          }),
        );
      }
      try {
        const j = JSON.parse(out) as { Username?: unknown; Secret?: unknown };
        if (typeof j.Secret !== 'string' || j.Secret === '') return resolve(undefined);
        if (j.Username === '<token>') return resolve({ kind: 'identity-token', token: j.Secret });
        resolve({ kind: 'basic', username: typeof j.Username === 'string' ? j.Username : '', password: j.Secret });
      } catch {
        reject(
          new RegistryError(
            'REGISTRY_CREDENTIALS_UNREADABLE',
            serverUrl,
            `credential helper ${program} printed something that is not JSON`,
            { check: 'credentials' },
          ),
        );
      }
    });
    child.stdin.end(serverUrl);
  });
}

/** Flags first (for any registry the command touches), then the Docker config. */
export function chainCredentials(...sources: Array<CredentialSource | undefined>): CredentialSource {
  return async (registry) => {
    for (const s of sources) {
      const c = s ? await s(registry) : undefined;
      if (c) return c;
    }
    return undefined;
  };
}
