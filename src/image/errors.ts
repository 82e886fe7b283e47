import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';
import type { ImageErrorCode } from '../core/error-codes.js';

export class ImageError extends KeylessError {
  constructor(code: ImageErrorCode, message: string, details: KeylessErrorDetails = {}) {
    super(code, message, details);
    this.name = 'ImageError';
  }
}
