// Flags and environment shared by the image commands: registry credentials and transport,
// references, annotations, COSIGN_REPOSITORY.
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  RegistryClient,
  parseReference,
  dockerConfigCredentials,
  chainCredentials,
  type CredentialSource,
  type ImageReference,
  type Repository,
} from '../../registry/index.js';
import { UsageError } from '../usage-error.js';
import { parseDuration } from './sign.js';

export interface RegistryFlags {
  registryUsername?: string;
  registryPassword?: string;
  registryToken?: string;
  allowHttpRegistry?: boolean;
  allowInsecureRegistry?: boolean;
  timeout?: string;
}

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function usage(message: string): UsageError {
  return new UsageError(message);
}

export function bool(v: string | boolean | undefined, flag: string): boolean {
  if (v === undefined || v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw usage(`${flag} must be true or false`);
}

/** `-a key=value` pairs. */
export function annotationsOf(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw usage(`annotation ${JSON.stringify(p)} is not key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export function references(images: string[]): ImageReference[] {
  return images.map((i) => {
    try {
      return parseReference(i);
    } catch (e) {
      throw usage((e as Error).message);
    }
  });
}

/** COSIGN_REPOSITORY / KEYLESS_REPOSITORY: signatures live in another repository. */
export function signatureRepository(): Repository | undefined {
  const value = process.env.KEYLESS_REPOSITORY?.trim() || process.env.COSIGN_REPOSITORY?.trim();
  if (!value) return undefined;
  let r: ImageReference;
  try {
    r = parseReference(value);
  } catch (e) {
    throw usage(`COSIGN_REPOSITORY: ${(e as Error).message}`);
  }
  if (r.digest || (r.tag && r.tag !== 'latest') || value.includes('@'))
    throw usage(`COSIGN_REPOSITORY ${JSON.stringify(value)} must name a repository, without tag or digest`);
  return { registry: r.registry, repository: r.repository };
}

export function registryClient(flags: RegistryFlags): RegistryClient {
  const sources: CredentialSource[] = [];
  if (flags.registryToken !== undefined) {
    const token = flags.registryToken;
    sources.push(async () => ({ kind: 'bearer', token }));
  } else if (flags.registryUsername !== undefined || flags.registryPassword !== undefined) {
    if (flags.registryUsername === undefined || flags.registryPassword === undefined)
      throw usage('give both --registry-username and --registry-password');
    const c = { kind: 'basic' as const, username: flags.registryUsername, password: flags.registryPassword };
    sources.push(async () => c);
  }
  const dockerDir = process.env.DOCKER_CONFIG?.trim() || join(homedir(), '.docker');
  sources.push(dockerConfigCredentials(dockerDir));
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout);
  return new RegistryClient({
    credentials: chainCredentials(...sources),
    allowHttp: flags.allowHttpRegistry === true,
    allowInsecure: flags.allowInsecureRegistry === true,
    timeoutMs,
  });
}

export function name(r: ImageReference): string {
  return `${r.registry}/${r.repository}`;
}
