import { KeylessError } from '../core/errors.js';

/** Thrown for bad command-line use; the CLI turns it into exit status 2. */
export class UsageError extends KeylessError {
  constructor(message: string) {
    super('USAGE', message, { check: 'usage' });
  }
}
