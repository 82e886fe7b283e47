/**
 * Error codes the server layer added with composition and start-up hardening, collected
 * here so they can move into the typed registry (src/core/error-codes.ts) in one step.
 */
export const SERVER_ERROR_CODES = [
  /** `devIdp.enabled: true` while the server is reachable beyond loopback, without `devIdp.allowPublic`. */
  'DEV_IDP_NOT_LOOPBACK',
  /** `storage.driver` names a driver this build does not have. */
  'STORAGE_DRIVER_UNKNOWN',
  /** HTTP 503 from the socket while the routes are still being built. */
  'SERVER_STARTING',
] as const;
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];
