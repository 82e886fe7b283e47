// The monitor's errors (codes in src/core/error-codes.ts, component 'monitor').
// The class of a failure decides the exit status: configuration (2), an unreachable or
// garbled log (1), a log that contradicts itself or its key (4).
import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';
import type { MonitorErrorCode } from '../core/error-codes.js';

export type { MonitorErrorCode };

export class MonitorError extends KeylessError {
  declare readonly code: MonitorErrorCode;
  constructor(code: MonitorErrorCode, message: string, details: KeylessErrorDetails = {}) {
    super(code, message, details);
    this.name = 'MonitorError';
  }
}

export const configError = (key: string, message: string) =>
  new MonitorError('MONITOR_CONFIG_INVALID', `config ${key}: ${message}`, { check: key });
export const garbled = (what: string, message: string, cause?: unknown) =>
  new MonitorError('MONITOR_LOG_GARBLED', `${what}: ${message}`, { check: what, cause });
export const inconsistent = (check: string, message: string, details: KeylessErrorDetails = {}) =>
  new MonitorError('MONITOR_LOG_INCONSISTENT', message, { check, ...details });
