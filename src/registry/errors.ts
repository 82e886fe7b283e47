import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';
import type { RegistryErrorCode } from '../core/error-codes.js';

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
