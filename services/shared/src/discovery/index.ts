export { catalogName, type ServiceName } from './service-names.js';
export { createStaticResolver, type ServiceResolver } from './static-resolver.js';
export { pickInstance, type BalancingPolicy, type InstanceLoad } from './picker.js';
export { createStaticSource, type InstanceSource, type ServiceInstance } from './instance-source.js';
export { createConsulSource, toInstances, type ConsulSourceOptions } from './consul-source.js';
export { createConsulClient } from './consul-client.js';
export {
  createChannelProvider,
  DEFAULT_POLICIES,
  NoHealthyInstanceError,
  type BalancedClient,
  type ChannelProvider,
  type ChannelProviderOptions,
  type GrpcClientConstructor,
  type InstanceStats,
} from './channel-provider.js';
export {
  registerService,
  registrationRequest,
  type HealthCheckSpec,
  type RegisterServiceOptions,
  type ServiceRegistration,
} from './registration.js';
export { discoveryConfig, DISCOVERY_ENV, type DiscoveryConfig } from './config.js';
export { createDiscovery, advertisedHost, type CreateDiscoveryOptions, type Discovery, type RegisterSelfOptions } from './discovery.js';
