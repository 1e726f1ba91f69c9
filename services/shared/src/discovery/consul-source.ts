// Healthy instances from Consul: one blocking query per watched service (`health.service` with
// `passing` and the last `index`), so a check turning critical reaches callers as soon as Consul
// records it, without polling.
import type Consul from 'consul';
import type { Logger } from 'pino';
import type { InstanceSource, ServiceInstance } from './instance-source.js';
import { catalogName, type ServiceName } from './service-names.js';

export interface ConsulSourceOptions {
  readonly consul: Consul;
  /** Shown in logs: the address the client talks to. */
  readonly address: string;
  readonly logger: Logger;
  /** Catalog names are `<prefix>-<service>`; default `freechat`. */
  readonly namePrefix?: string;
  /** How long one blocking query may wait for a change (Consul's `wait`). */
  readonly waitSeconds?: number;
  /** Ceiling of the retry delay while Consul cannot be reached. */
  readonly backoffMaxMs?: number;
}

interface HealthEntry {
  readonly Node?: { readonly Address?: string };
  readonly Service: { readonly ID: string; readonly Address?: string; readonly Port: number };
}

export function createConsulSource(options: ConsulSourceOptions): InstanceSource {
  const { consul, logger } = options;
  return {
    description: `consul at ${options.address}`,
    subscribe(service, onChange) {
      const watch = consul.watch({
        method: consul.health.service,
        // The watch helper types every option as a string; Consul only tests `passing` for truth.
        options: { service: catalogName(service, options.namePrefix), passing: 'true', wait: `${options.waitSeconds ?? 30}s` },
        backoffFactor: 100,
        backoffMax: options.backoffMaxMs ?? 5_000,
      });
      let failing = false;
      watch.on('change', (entries: readonly HealthEntry[]) => {
        if (failing) logger.info({ service }, 'consul reachable again');
        failing = false;
        onChange(toInstances(entries));
      });
      // Keep routing to the last known instances while Consul is away: its outage is not theirs.
      watch.on('error', (error: Error) => {
        if (!failing) logger.warn({ err: error, service }, 'consul watch failed; keeping the last known instances and retrying');
        failing = true;
      });
      return () => watch.end();
    },
  };
}

/** Pure: Consul's health entries → instances, the service address winning over the node's. */
export function toInstances(entries: readonly HealthEntry[]): ServiceInstance[] {
  return entries.map((entry) => {
    const host = entry.Service.Address || entry.Node?.Address || '127.0.0.1';
    return { id: entry.Service.ID, address: `${host.includes(':') ? `[${host}]` : host}:${entry.Service.Port}` };
  });
}
