import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';

/** Every code the registry client throws (moved into the project's code registry in one step). */
export const REGISTRY_ERROR_CODES = [
  'REGISTRY_REFERENCE_INVALID',
  'REGISTRY_UNREACHABLE',
  'REGISTRY_TIMEOUT',
  'REGISTRY_UNAUTHORIZED',
  'REGISTRY_DENIED',
  'REGISTRY_NOT_FOUND',
  'REGISTRY_BAD_RESPONSE',
  'REGISTRY_TOO_LARGE',
  'REGISTRY_DIGEST_MISMATCH',
  'REGISTRY_FAILED',
  'REGISTRY_CREDENTIALS_UNREADABLE',
  'REGISTRY_CONFLICT',
] as const;
export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[number];

/** A registry refused, failed or answered something unusable; `registry` names it (host[:port]). */
export class RegistryError extends KeylessError {
  readonly registry: string;
  readonly status: number | undefined;
  constructor(code: RegistryErrorCode, registry: string, message: string, details: KeylessErrorDetails & { status?: number } = {}) {
    super(code, `registry ${registry}: ${message}`, { check: details.check ?? 'registry', ...details });
    this.name = 'RegistryError';
    this.registry = registry;
    this.status = details.status;
  }
}
