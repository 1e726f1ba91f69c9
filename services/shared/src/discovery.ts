// How a service finds another. Static addresses from config today; Consul implements the same
// interface later, so callers never know which one they got.

export type ServiceName = 'auth' | 'chat' | 'inference' | 'gateway';

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
