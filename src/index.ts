// The public library API of Keyless. Each component exports its own small index.
export { KeylessError, FormatError, VerificationError } from './core/errors.js';
