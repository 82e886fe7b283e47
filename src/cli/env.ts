// Environment variables the CLI reads in place of flags (kept import-free: the verify path loads it).

/** Stand in for `--signing-config` / `--trusted-root`, for signing and verification alike. */
export const SIGNING_CONFIG_ENV = 'KEYLESS_SIGNING_CONFIG';
export const TRUSTED_ROOT_ENV = 'KEYLESS_TRUSTED_ROOT';
