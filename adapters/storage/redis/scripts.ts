import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Lua scripts: each runs atomically on the server, so a compare and the write it guards (and the
 * change announcement) can never be split by another client's command.
 */
export interface Script {
  readonly source: string;
  readonly sha: string;
  readonly keys: number;
}

function script(keys: number, source: string): Script {
  return { source, keys, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS: record, fence counter. ARGV: record JSON, expectedVersion ('' = none), fence ('' = none),
 * channel, key. Replies {'ok'} | {'fenced', current} | {'conflict', stored} | {'corrupt'}.
 * The fence is checked first: a stale holder learns it lost the lock, whatever the version says.
 */
export const setScript = script(
  2,
  `
if ARGV[3] ~= '' then
  local current = redis.pcall('GET', KEYS[2])
  if type(current) == 'table' then return {'corrupt'} end
  current = tonumber(current or '0')
  if current == nil then return {'corrupt'} end
  if current > tonumber(ARGV[3]) then return {'fenced', tostring(current)} end
end
if ARGV[2] ~= '' then
  local raw = redis.pcall('GET', KEYS[1])
  if type(raw) == 'table' then return {'corrupt'} end
  local stored = 0
  if raw then
    local ok, decoded = pcall(cjson.decode, raw)
    if not ok or type(decoded) ~= 'table' or type(decoded.version) ~= 'number' then return {'corrupt'} end
    stored = decoded.version
  end
  if stored ~= tonumber(ARGV[2]) then return {'conflict', tostring(stored)} end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {'ok'}
`,
);

/** KEYS: record. ARGV: channel, key. Announces only a delete that removed something. */
export const deleteScript = script(
  1,
  `
if redis.call('DEL', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 1
`,
);

/** KEYS: lock, fence counter. ARGV: holder token, ttl ms. The fence, or nil when the lock is held. */
export const lockScript = script(
  2,
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
`,
);

/** KEYS: lock. ARGV: holder token. Deletes the lock only for its holder. */
export const releaseScript = script(
  1,
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`,
);

/** KEYS: lock. ARGV: holder token, ttl ms. 1 when extended, 0 when the lock is no longer ours. */
export const extendScript = script(
  1,
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`,
);

/** EVALSHA, falling back to EVAL once when the server does not have the script cached (restart). */
export async function runScript(client: Redis, s: Script, args: (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, s.keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return client.eval(s.source, s.keys, ...args);
    }
    throw error;
  }
}
