import type { Redis } from 'ioredis';

/** Deletes every key under `prefix` on the shared Redis (no glob characters in our prefixes). */
export async function deleteUnder(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
