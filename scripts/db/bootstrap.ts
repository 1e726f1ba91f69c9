// One-off database bootstrap: a login role per service owning only its schema (see
// services/shared/src/postgres/roles.ts). For an operator's Kubernetes Job, or by hand:
//
//   FREECHAT_DB_ADMIN_URL=postgres://admin:…@db:5432/freechat \
//   FREECHAT_DB_AUTH_PASSWORD=… FREECHAT_DB_CHAT_PASSWORD=… \
//   node --import tsx scripts/db/bootstrap.ts
//
// Then auth runs with DATABASE_URL=postgres://freechat_auth:<its password>@db:5432/freechat, and
// chat with freechat_chat's. Idempotent: running it again resets the passwords to the given ones.
// Prints role names only, never a password or the admin URL's credentials.
import { bootstrapServiceRoles, SERVICE_SCHEMAS, serviceRoleName, type SchemaOwningService } from '@freechat/shared/postgres';

const fail = (message: string): never => {
  process.stderr.write(`bootstrap: ${message}\n`);
  process.exit(2);
};

const adminUrl = process.env['FREECHAT_DB_ADMIN_URL'] || fail('set FREECHAT_DB_ADMIN_URL to a postgres:// URL of an administrator (superuser, or CREATEROLE)');
const prefix = process.env['FREECHAT_DB_ROLE_PREFIX'] || 'freechat';
if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) fail('FREECHAT_DB_ROLE_PREFIX: lowercase letters, digits and underscores');
const roles = (Object.keys(SERVICE_SCHEMAS) as SchemaOwningService[]).map((service) => {
  const variable = `FREECHAT_DB_${service.toUpperCase()}_PASSWORD`;
  const password = process.env[variable] ?? '';
  if (password.length < 16) fail(`set ${variable} (at least 16 characters): the password of ${serviceRoleName(service, prefix)}`);
  return { role: serviceRoleName(service, prefix), schema: SERVICE_SCHEMAS[service], password };
});

try {
  await bootstrapServiceRoles({ adminUrl, roles });
  for (const { role, schema } of roles) process.stdout.write(`bootstrap: role ${role} owns schema ${schema}\n`);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
