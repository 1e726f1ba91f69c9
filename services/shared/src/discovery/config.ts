// The `discovery` part of every service's configuration: spread `discoveryConfig` into the schema
// and `DISCOVERY_ENV` into the environment map (defaults live in config/default.yaml).
import { z } from 'zod';
import type { DeepReadonly } from '../config.js';

export const discoveryConfig = {
  discovery: z.strictObject({
    consul: z.strictObject({
      /** Empty: static addresses from config, no registration. */
      address: z.string(),
      /** Catalog names are `<prefix>-<service>` (freechat-auth, …). */
      serviceNamePrefix: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    }),
    /** Empty: the listen host, or the machine's hostname when listening on every interface. */
    advertiseHost: z.string(),
    checkIntervalMs: z.coerce.number().int().min(100),
    // Consul's agent raises anything shorter to one minute (and reaps every 30 s); saying so here
    // keeps the configuration honest about when a crashed instance disappears.
    deregisterCriticalAfterMs: z.coerce.number().int().min(60_000, "Consul's agent enforces at least 60000 (one minute)"),
  }),
};

export type DiscoveryConfig = DeepReadonly<z.output<(typeof discoveryConfig)['discovery']>>;

export const DISCOVERY_ENV = {
  CONSUL_HTTP_ADDR: 'discovery.consul.address',
  FREECHAT_ADVERTISE_HOST: 'discovery.advertiseHost',
  FREECHAT_SERVICE_NAME_PREFIX: 'discovery.consul.serviceNamePrefix',
} as const;
