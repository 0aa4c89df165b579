// token-lifecycle/adapters/redis: a TokenStorage shared through Redis (ioredis, an optional peer dependency).
export { redisStorage, type RedisStorage, type RedisStorageOptions } from './redis-storage.js';
