// Reading untyped JSON answers of a log without `any`: a property path, or undefined.

export type Json = unknown;

/** The value at `path` inside `v`, or undefined when any step is not an object. */
export function at(v: Json, ...path: string[]): Json {
  let cur = v;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function listAt(v: Json, ...path: string[]): unknown[] {
  const l = at(v, ...path);
  return Array.isArray(l) ? l : [];
}
