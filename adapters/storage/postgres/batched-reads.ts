/**
 * Reads issued in the same turn of the event loop go to the database as one query
 * (`WHERE key = ANY($1)`), each caller still getting its own row. A manager's `start()` reads every
 * stored key at once: one round trip per few hundred keys instead of one per key. A lone `get` waits
 * only for the current turn to end (`setImmediate`).
 */
const MAX_KEYS_PER_QUERY = 500;

interface Waiter {
  readonly key: string;
  resolve(raw: string | undefined): void;
  reject(error: unknown): void;
}

/** `readMany(keys)` resolves to the stored text by key (absent keys left out). */
export function batchedReads(readMany: (keys: string[]) => Promise<Map<string, string>>): (key: string) => Promise<string | undefined> {
  let waiting: Waiter[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const batch = waiting;
    waiting = [];
    for (let i = 0; i < batch.length; i += MAX_KEYS_PER_QUERY) {
      const part = batch.slice(i, i + MAX_KEYS_PER_QUERY);
      readMany([...new Set(part.map((w) => w.key))]).then(
        (found) => {
          for (const w of part) w.resolve(found.get(w.key));
        },
        (error: unknown) => {
          for (const w of part) w.reject(error);
        },
      );
    }
  }

  return (key) =>
    new Promise<string | undefined>((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
