import { userInfo } from 'node:os';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { KeylessError } from '../core/errors.js';
import { softwareSigner, type Signer } from '../core/signer.js';
import { parseJson, asObject, asString } from '../core/json.js';
import { SERVER_KEY_TYPES, type ServerKeyType } from './config.js';

/**
 * A key the server holds for one of its services: a Signer (services sign through it and
 * never see the private key, so an HSM-backed store can hand out the same thing) with
 * its name, type and creation time.
 */
export interface ServerKey extends Signer {
  readonly name: string;
  readonly type: ServerKeyType;
  /** When the key was generated; the trust files start the key's validity here. */
  readonly createdAt: Date;
}

/**
 * Where the server's keys live. The file store keeps them in the data directory; a
 * PKCS#11 store (softhsm2, an HSM) can implement the same two calls later.
 */
export interface KeyStore {
  /** Returns the key named `name`, generating it on first use. An existing key is never replaced. */
  loadOrCreate(name: string, type: ServerKeyType): ServerKey;
  /** The key if it exists, without generating it. */
  load(name: string): ServerKey | undefined;
}

const KEY_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Keys as PKCS#8 PEM files (mode 0600) in `<dataDir>/keys` (mode 0700), with a small metadata file each. */
export class FileKeyStore implements KeyStore {
  readonly dir: string;
  private readonly cache = new Map<string, ServerKey>();

  constructor(
    dataDir: string,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.dir = join(dataDir, 'keys');
    ensurePrivateDir(dataDir, warn);
    ensurePrivateDir(this.dir, warn);
  }

  load(name: string): ServerKey | undefined {
    checkName(name);
    const cached = this.cache.get(name);
    if (cached) return cached;
    const keyPath = join(this.dir, `${name}.pem`);
    const metaPath = join(this.dir, `${name}.json`);
    if (!existsSync(keyPath)) return undefined;
    for (const path of [keyPath, metaPath]) {
      if (existsSync(path)) requireOwnedByServer(path, statSync(path).uid, 'KEY_FILE_NOT_OWNED', 'key file');
    }
    tightenFileMode(keyPath, this.warn);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(readFileSync(keyPath));
    } catch (e) {
      // The message of a PEM parser failure never contains the key itself.
      throw new KeylessError('KEY_FILE_INVALID', `key file ${keyPath} cannot be read as a private key: ${(e as Error).message}`);
    }
    let meta: { type: ServerKeyType; createdAt: Date };
    try {
      const o = asObject(parseJson(readFileSync(metaPath, 'utf8'), metaPath), metaPath);
      const type = asString(o.type, `${metaPath}.type`);
      const createdAt = new Date(asString(o.createdAt, `${metaPath}.createdAt`));
      if (!(SERVER_KEY_TYPES as readonly string[]).includes(type) || Number.isNaN(createdAt.getTime())) throw new Error('bad type or date');
      meta = { type: type as ServerKeyType, createdAt };
    } catch (e) {
      throw new KeylessError('KEY_FILE_INVALID', `key metadata ${metaPath} is missing or invalid: ${(e as Error).message}`);
    }
    if (keyTypeOf(privateKey) !== meta.type) {
      throw new KeylessError(
        'KEY_FILE_INVALID',
        `key file ${keyPath} holds a ${keyTypeOf(privateKey)} key, its metadata says ${meta.type}`,
      );
    }
    const key = softwareKey(name, meta.type, privateKey, meta.createdAt);
    this.cache.set(name, key);
    return key;
  }

  loadOrCreate(name: string, type: ServerKeyType): ServerKey {
    const existing = this.load(name);
    if (existing) {
      // The key of a log or CA must never change: a different choice in the config is reported, not applied.
      if (existing.type !== type)
        this.warn(`key "${name}" already exists as ${existing.type}; keeping it (configuration asks for ${type})`);
      return existing;
    }
    const privateKey = generatePrivateKey(type);
    const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    writePrivateFile(join(this.dir, `${name}.json`), JSON.stringify({ type, createdAt: createdAt.toISOString() }, null, 2) + '\n');
    // The key file comes last: a key without metadata would be refused on the next start.
    writePrivateFile(join(this.dir, `${name}.pem`), privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    const key = softwareKey(name, type, privateKey, createdAt);
    this.cache.set(name, key);
    return key;
  }
}

function softwareKey(name: string, type: ServerKeyType, privateKey: KeyObject, createdAt: Date): ServerKey {
  const signer = softwareSigner(privateKey);
  return { name, type, createdAt, algorithm: signer.algorithm, publicKey: signer.publicKey, sign: signer.sign };
}

export function generatePrivateKey(type: ServerKeyType): KeyObject {
  switch (type) {
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ecdsa-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey;
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)) }).privateKey;
  }
}

export function keyTypeOf(key: KeyObject): ServerKeyType | 'unsupported' {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return 'ed25519';
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'prime256v1' ? 'ecdsa-p256' : curve === 'secp384r1' ? 'ecdsa-p384' : 'unsupported';
  }
  if (t === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    return bits === 2048 ? 'rsa-2048' : bits === 3072 ? 'rsa-3072' : bits === 4096 ? 'rsa-4096' : 'unsupported';
  }
  return 'unsupported';
}

function checkName(name: string): void {
  if (!KEY_NAME.test(name)) throw new KeylessError('KEY_NAME_INVALID', `invalid key name ${JSON.stringify(name)}`);
}

/** Creates a directory with mode 0700, or tightens an existing one that others could read. */
export function ensurePrivateDir(dir: string, warn: (message: string) => void): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    return;
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new KeylessError('DATA_DIR_INVALID', `${dir} exists and is not a directory`);
  requireOwnedByServer(dir, st.uid, 'DATA_DIR_NOT_OWNED', 'directory');
  if ((st.mode & 0o077) !== 0) {
    warn(`${dir} was accessible to other users; setting its mode to 0700`);
    chmodSync(dir, 0o700);
  }
}

/**
 * Refuses a directory or key file another user owns: its owner could replace the keys
 * (or the file) between two starts, whatever its mode says. Not checked where the
 * platform has no user IDs.
 */
function requireOwnedByServer(path: string, ownerUid: number, code: 'DATA_DIR_NOT_OWNED' | 'KEY_FILE_NOT_OWNED', what: string): void {
  const uid = userInfo().uid;
  if (uid < 0 || ownerUid === uid) return;
  throw new KeylessError(
    code,
    `${what} ${path} is owned by uid ${ownerUid}, not by this server's user (uid ${uid}): its owner could replace the keys; chown it to uid ${uid} or use another data directory`,
  );
}

function tightenFileMode(path: string, warn: (message: string) => void): void {
  if ((statSync(path).mode & 0o077) !== 0) {
    warn(`${path} was readable by other users; setting its mode to 0600`);
    chmodSync(path, 0o600);
  }
}

/** Writes a file atomically (temporary file, then rename) with mode 0600. */
export function writePrivateFile(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600, flush: true });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
