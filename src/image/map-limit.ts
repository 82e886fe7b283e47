/** Runs `fn` over `items` with at most `limit` in flight; the first failure stops new work and is thrown once all settle. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    for (let i = next++; i < items.length && !failure; i = next++) {
      try {
        out[i] = await fn(items[i] as T);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.e;
  return out;
}
