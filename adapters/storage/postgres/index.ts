// token-lifecycle/adapters/postgres: a TokenStorage shared through PostgreSQL (pg, an optional peer dependency).
export { postgresStorage, type PostgresStorage, type PostgresStorageOptions } from './postgres-storage.js';
