// The services that find each other, and the names they go by in Consul's catalog.

export type ServiceName = 'auth' | 'chat' | 'inference' | 'gateway';

/** Prefixed, so Free Chat's services stand apart from others sharing the same Consul. */
export function catalogName(service: ServiceName): string {
  return `freechat-${service}`;
}
