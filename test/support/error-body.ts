// The Keyless error code of an error answer. Every service answers `{code, message}` with
// a code from the registry, except the Rekor v1 routes: they answer as Rekor does (its
// OpenAPI Error model, `code` = the HTTP status) and carry the Keyless code as `reason`.

/** The Keyless error code, or undefined when the body is neither form (or a Rekor-style `code` is not the status). */
export function errorCode(body: unknown, status: number): string | undefined {
  const b = body as { code?: unknown; reason?: unknown } | null;
  if (typeof b?.code === 'string' && b.code.length > 0) return b.code;
  if (b?.code === status && typeof b.reason === 'string' && b.reason.length > 0) return b.reason;
  return undefined;
}
