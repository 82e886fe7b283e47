import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeylessError } from '../core/errors.js';
import { pemEncode } from '../core/encoding.js';
import { parseCertificatesPem, type Certificate } from '../x509/index.js';
import { createCaChain, createTsaChain, type CertificateSigner, type KeyChoice } from '../x509/build/index.js';
import type { ServerConfig, ServerKeyType } from './config.js';
import { ensurePrivateDir, writePrivateFile, type KeyStore } from './keys.js';

/** The CA's two certificates with their keys (the intermediate signs leaves). */
export interface CaMaterial {
  root: CertificateSigner;
  intermediate: CertificateSigner;
}

/** The TSA's signing certificate and key, and its chain (signing certificate first, root last). */
export interface TsaMaterial {
  signer: CertificateSigner;
  chain: Certificate[];
}

function certChoice(type: ServerKeyType, what: string): KeyChoice {
  if (type === 'ecdsa-p256' || type === 'ecdsa-p384' || type === 'ed25519') return type;
  throw new KeylessError(
    'CONFIG_INVALID',
    `config.keys.${what}: ${type} is not supported for certificates (use ecdsa-p256, ecdsa-p384 or ed25519)`,
  );
}

/**
 * Loads the CA chain from `<dataDir>/certs/ca.pem` or creates it once (keys from the key
 * store). The files are checked against the keys so a mixed-up data directory is refused.
 */
export function loadOrCreateCa(dataDir: string, keys: KeyStore, config: ServerConfig, warn: (m: string) => void): CaMaterial {
  const type = config.keys.ca;
  certChoice(type, 'ca');
  const rootKey = keys.loadOrCreate('ca-root', type);
  const intermediateKey = keys.loadOrCreate('ca-intermediate', type);
  const path = join(ensureCertDir(dataDir, warn), 'ca.pem');
  let certs = readChain(path);
  if (!certs) {
    const chain = createCaChain({
      organization: config.organization,
      rootCommonName: `${config.organization} root CA`,
      intermediateCommonName: `${config.organization} intermediate CA`,
      validityDays: config.validity.caCertificateDays,
      now: rootKey.createdAt,
      rootKey,
      intermediateKey,
    });
    certs = [chain.intermediate.certificate, chain.root.certificate];
    writeChain(path, certs);
  }
  const [intermediate, root] = certs;
  if (certs.length !== 2 || !intermediate || !root)
    throw new KeylessError('CERT_FILE_INVALID', `${path} must hold the intermediate and the root certificate`);
  checkKeyMatches(intermediate, intermediateKey.publicKey, path);
  checkKeyMatches(root, rootKey.publicKey, path);
  return {
    root: { certificate: root, key: rootKey },
    intermediate: { certificate: intermediate, key: intermediateKey },
  };
}

/** Loads the TSA chain from `<dataDir>/certs/tsa.pem` or creates it once. */
export function loadOrCreateTsa(dataDir: string, keys: KeyStore, config: ServerConfig, warn: (m: string) => void): TsaMaterial {
  const type = config.keys.tsa;
  certChoice(type, 'tsa');
  const rootKey = keys.loadOrCreate('tsa-root', type);
  const signingKey = keys.loadOrCreate('tsa', type);
  const path = join(ensureCertDir(dataDir, warn), 'tsa.pem');
  let certs = readChain(path);
  if (!certs) {
    const chain = createTsaChain({
      organization: config.organization,
      commonName: `${config.organization} timestamp authority`,
      validityDays: config.validity.tsaCertificateDays,
      now: rootKey.createdAt,
      rootKey,
      signingKey,
    });
    certs = chain.chain;
    writeChain(path, certs);
  }
  const [leaf, root] = certs;
  if (certs.length !== 2 || !leaf || !root)
    throw new KeylessError('CERT_FILE_INVALID', `${path} must hold the TSA certificate and its root`);
  checkKeyMatches(leaf, signingKey.publicKey, path);
  checkKeyMatches(root, rootKey.publicKey, path);
  return { signer: { certificate: leaf, key: signingKey }, chain: certs };
}

function ensureCertDir(dataDir: string, warn: (m: string) => void): string {
  const dir = join(dataDir, 'certs');
  ensurePrivateDir(dir, warn);
  return dir;
}

function readChain(path: string): Certificate[] | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return parseCertificatesPem(readFileSync(path, 'utf8'), path);
  } catch (e) {
    throw new KeylessError('CERT_FILE_INVALID', `${path} cannot be read: ${(e as Error).message}`);
  }
}

function writeChain(path: string, certs: Certificate[]): void {
  writePrivateFile(path, certs.map((c) => pemEncode('CERTIFICATE', c.der)).join(''));
}

function checkKeyMatches(cert: Certificate, publicKey: import('node:crypto').KeyObject, path: string): void {
  if (!cert.publicKey.equals(publicKey)) {
    throw new KeylessError(
      'CERT_FILE_INVALID',
      `${path}: certificate ${cert.subject.toString()} does not belong to the key in the key store`,
    );
  }
}
