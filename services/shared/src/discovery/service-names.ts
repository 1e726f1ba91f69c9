// The services that find each other, and the names they go by in Consul's catalog.

export type ServiceName = 'auth' | 'chat' | 'inference' | 'gateway';

export const DEFAULT_NAME_PREFIX = 'freechat';

/**
 * Prefixed, so Free Chat's services stand apart from others sharing the same Consul, and two
 * installations (or concurrent test files) sharing one stay apart from each other.
 */
export function catalogName(service: ServiceName, prefix: string = DEFAULT_NAME_PREFIX): string {
  return `${prefix}-${service}`;
}
