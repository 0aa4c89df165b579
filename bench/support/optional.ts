/**
 * Modules other engineers are still writing: imported through a computed specifier so this package
 * compiles without them, and skipped with a note when they are not there.
 */
export async function importOptional<T>(specifier: string, exportName: string): Promise<T | undefined> {
  try {
    const mod = (await import(new URL(specifier, import.meta.url).href)) as Record<string, unknown>;
    return (mod[exportName] as T | undefined) ?? undefined;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}
