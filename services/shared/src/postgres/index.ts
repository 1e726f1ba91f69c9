export { startEmbeddedPostgres, type EmbeddedPostgresOptions, type RunningPostgres, type PausablePostgres } from './embedded-postgres.js';
export { runMigrations, orderMigrations, type Migration, type RunMigrationsOptions } from './migrations.js';
export { createPool, type PoolOptions } from './pool.js';
export { startThrowawayPostgres } from './throwaway-postgres.js';
export { watchDatabase, type DatabaseWatch, type DatabaseWatchOptions } from './database-watch.js';
export { bootstrapServiceRoles, roleDatabaseUrl, serviceRoleName, SERVICE_SCHEMAS, type ServiceRole, type SchemaOwningService } from './roles.js';
