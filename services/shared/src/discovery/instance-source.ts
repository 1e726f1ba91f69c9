// Where the instances of a service come from: a fixed address from configuration, or Consul's list of
// healthy instances. The channel provider only sees this interface.
import type { ServiceName } from './service-names.js';

export interface ServiceInstance {
  /** Stable for the instance's life (Consul's service id; the address for static ones). */
  readonly id: string;
  /** `host:port` to dial. */
  readonly address: string;
}

export interface InstanceSource {
  /** Human-readable, for logs: "consul at 127.0.0.1:8500" / "static addresses". */
  readonly description: string;
  /**
   * Calls `onChange` with the whole current list whenever it changes (the first time as soon as it
   * is known) until the returned function is called.
   */
  subscribe(service: ServiceName, onChange: (instances: readonly ServiceInstance[]) => void): () => void;
}

/** One instance per configured address, which never changes: grpc-js reconnects to it on its own. */
export function createStaticSource(addresses: Readonly<Partial<Record<ServiceName, string>>>): InstanceSource {
  return {
    description: 'static addresses',
    subscribe(service, onChange) {
      const address = addresses[service];
      onChange(address ? [{ id: address, address }] : []);
      return () => {};
    },
  };
}
