// The address of a service from configuration, as `make run` and tests without Consul use it.
import type { ServiceName } from './service-names.js';

export interface ServiceResolver {
  /** `host:port` of a healthy instance. */
  resolve(service: ServiceName): Promise<string>;
}

export function createStaticResolver(addresses: Readonly<Partial<Record<ServiceName, string>>>): ServiceResolver {
  return {
    resolve(service) {
      const address = addresses[service];
      return address ? Promise.resolve(address) : Promise.reject(new Error(`no address configured for the ${service} service`));
    },
  };
}
