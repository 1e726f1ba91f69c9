export { startEmbeddedPostgres, type EmbeddedPostgresOptions, type RunningPostgres } from './embedded-postgres.js';
export { runMigrations, orderMigrations, type Migration, type RunMigrationsOptions } from './migrations.js';
export { createPool, type PoolOptions } from './pool.js';
export { startThrowawayPostgres } from './throwaway-postgres.js';
