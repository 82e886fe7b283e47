import { KeylessError, type KeylessErrorDetails } from '../core/errors.js';

/** Every code the image component throws (moved into the project's code registry in one step). */
export const IMAGE_ERROR_CODES = [
  'IMAGE_NO_SIGNATURES',
  'IMAGE_NOT_VERIFIED',
  'IMAGE_LEGACY_NEEDS_REKOR_V1',
  'IMAGE_ANNOTATION_INVALID',
  'IMAGE_BUNDLE_INVALID',
] as const;
export type ImageErrorCode = (typeof IMAGE_ERROR_CODES)[number];

export class ImageError extends KeylessError {
  constructor(code: ImageErrorCode, message: string, details: KeylessErrorDetails = {}) {
    super(code, message, details);
    this.name = 'ImageError';
  }
}
