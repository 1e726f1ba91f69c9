// `make run`: embedded PostgreSQL (unless DATABASE_URL is set) and the four services as separate
// processes, ready when each says so; a service that exits on its own is restarted (the restart
// plan); Ctrl-C stops everything in order.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createGrpcTransport, freePort, PLAINTEXT_TRANSPORT_CONFIG as PLAINTEXT_GRPC } from '@freechat/shared';
import { ensureDevCertificates } from '@freechat/shared/dev-tls';
import {
  bootstrapServiceRoles,
  roleDatabaseUrl,
  SERVICE_SCHEMAS,
  serviceRoleName,
  startEmbeddedPostgres,
  type RunningPostgres,
  type SchemaOwningService,
} from '@freechat/shared/postgres';
import { planStack } from './plan.js';
import { writeScrapeTargets } from '../infra/prometheus.js';
import { restartPolicyFromEnv } from './restart-plan.js';
import { assertPortsFree, Supervisor } from './supervisor.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (message: string) => process.stderr.write(`[make run] ${message}\n`);

async function main(): Promise<void> {
  let postgres: RunningPostgres | undefined;
  let databaseUrl = process.env['DATABASE_URL'];
  // Everything that can be refused is refused before anything starts.
  const restartPolicy = restartPolicyFromEnv(process.env);
  await assertPortsFree(planStack({ env: process.env, databaseUrl: '', repoRoot }).processes);
  const dataDir = process.env['FREECHAT_DATA_DIR'] || path.join(repoRoot, '.data');
  if (!databaseUrl) {
    log(`starting embedded PostgreSQL (data in ${path.join(dataDir, 'postgres')})`);
    postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres') });
    databaseUrl = postgres.url;
  }
  // Embedded PostgreSQL: each service connects as its own role, owning only its schema. A
  // DATABASE_URL given from outside is used as it is (run scripts/db/bootstrap.ts for roles there).
  const databaseUrls = postgres ? await serviceDatabaseUrls(postgres.url, path.join(dataDir, 'postgres', 'service-roles.json')) : undefined;
  if (databaseUrls) log(`services connect as their own database roles (${Object.keys(databaseUrls).map((s) => serviceRoleName(s as SchemaOwningService)).join(', ')})`);
  // Mutual TLS between the services, from a development CA kept in the data directory.
  const certificates = ensureDevCertificates({ dir: path.join(dataDir, 'tls'), names: ['auth', 'chat', 'inference', 'gateway', 'supervisor'] });
  log(`mutual TLS between services (development CA in ${certificates.dir}${certificates.created ? ', created now' : ''})`);
  const tls = { caFile: certificates.caFile, identities: certificates.identities as Record<'auth' | 'chat' | 'inference' | 'gateway', { certFile: string; keyFile: string }> };
  // A free port per process for its /metrics endpoint, so each URL is known and printed below.
  const metricsPorts: Record<string, number> = {};
  for (const spec of planStack({ env: process.env, databaseUrl, repoRoot }).processes) metricsPorts[spec.name] = await freePort();
  const plan = planStack({ env: process.env, databaseUrl, ...(databaseUrls && { databaseUrls }), tls, repoRoot, metricsPorts });
  const supervisorTransport = createGrpcTransport(
    { ...PLAINTEXT_GRPC, tls: { caFile: certificates.caFile, ...certificates.identities['supervisor']! } },
    'make run',
  );
  let shuttingDown: Promise<void> | undefined;
  let removeScrapeTargets: (() => void) | undefined;
  const shutdown = (code: number) => {
    shuttingDown ??= (async () => {
      log('stopping');
      removeScrapeTargets?.();
      await supervisor.stopAll();
      await postgres?.stop();
      log('stopped');
      process.exit(code);
    })();
    return shuttingDown;
  };
  const supervisor = new Supervisor({
    readyTimeoutMs: Number(process.env['FREECHAT_READY_TIMEOUT_MS'] || 30 * 60_000),
    stopGraceMs: 40_000,
    restartPolicy,
    log,
    grpcCredentials: supervisorTransport.channelCredentials(),
  });
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    for (const spec of plan.processes) await supervisor.start(spec);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    await shutdown(1);
    return;
  }
  for (const spec of plan.processes) if (spec.metricsUrl) process.stdout.write(`metrics ${spec.name} ${spec.metricsUrl}\n`);
  // `make run-infra`: the Prometheus of `make infra-up` scrapes every process (file service discovery).
  const targetsDir = process.env['FREECHAT_PROMETHEUS_TARGETS_DIR'];
  if (targetsDir) {
    const targets = plan.processes.flatMap((spec) => (spec.metricsUrl ? [{ address: new URL(spec.metricsUrl).host, service: spec.service, labels: { replica: spec.name } }] : []));
    removeScrapeTargets = writeScrapeTargets(targetsDir, `make-run-${process.pid}`, targets);
    log(`Prometheus scrapes the ${targets.length} metrics endpoints (${process.env['PROMETHEUS_URL'] ?? targetsDir}); traces go to ${process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? 'no exporter'}`);
  }
  if (process.env['ZIPKIN_URL'] && /zipkin/i.test(process.env['OTEL_TRACES_EXPORTER'] ?? '')) log(`traces UI: ${process.env['ZIPKIN_URL']}/zipkin/`);
  log(`Free Chat is ready at ${plan.publicUrl}`);
  process.stdout.write(`Free Chat is ready at ${plan.publicUrl}\n`);
}

/**
 * Creates the roles on first start with random passwords kept (mode 0600, never printed) in the
 * PostgreSQL data directory, and sets them again on every start (a role lost with a reset database
 * comes back). Returns each service's URL.
 */
async function serviceDatabaseUrls(adminUrl: string, file: string): Promise<Record<SchemaOwningService, string>> {
  const services = Object.keys(SERVICE_SCHEMAS) as SchemaOwningService[];
  const stored: Partial<Record<SchemaOwningService, string>> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const passwords = Object.fromEntries(services.map((s) => [s, stored[s] ?? randomBytes(24).toString('base64url')])) as Record<SchemaOwningService, string>;
  writeFileSync(file, `${JSON.stringify(passwords, null, 2)}\n`, { mode: 0o600 });
  await bootstrapServiceRoles({
    adminUrl,
    roles: services.map((s) => ({ role: serviceRoleName(s), schema: SERVICE_SCHEMAS[s], password: passwords[s] })),
  });
  return Object.fromEntries(services.map((s) => [s, roleDatabaseUrl(adminUrl, serviceRoleName(s), passwords[s])])) as Record<SchemaOwningService, string>;
}

await main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
