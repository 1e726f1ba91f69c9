// Where each piece of infrastructure is reached: the operator's own StatefulSet Service when it is
// managed, the address the resource gives when it is external.
import type { FreeChat } from '../api/freechat.js';
import { serviceHost, type Dependency } from './names.js';

export interface SecretKey {
  readonly name: string;
  readonly key: string;
}

export interface Endpoint {
  /** What the services are given: a URL or host:port, never containing a secret. */
  readonly address: string;
  /** A Secret key holding the password (or token) that goes with it, when there is one. */
  readonly secret?: SecretKey;
  readonly managed: boolean;
}

export const POSTGRES_USER = 'freechat';
export const POSTGRES_DATABASE = 'freechat';
/** The generated Secret of a managed PostgreSQL: its superuser's password. */
export const postgresSecretName = (fc: Pick<FreeChat, 'metadata'>): string => `${fc.metadata.name}-postgres`;

export function endpoint(fc: FreeChat, dependency: Dependency): Endpoint {
  const spec = fc.spec[dependency];
  if (spec.external) {
    const address = dependency === 'postgres' && !spec.external.address.includes('://') ? `postgres://${POSTGRES_USER}@${spec.external.address}/${POSTGRES_DATABASE}` : spec.external.address;
    return { address, managed: false, ...(spec.external.secretRef && { secret: spec.external.secretRef }) };
  }
  switch (dependency) {
    case 'postgres':
      return {
        address: `postgres://${POSTGRES_USER}@${serviceHost(fc, 'postgres')}:5432/${POSTGRES_DATABASE}`,
        secret: { name: postgresSecretName(fc), key: 'password' },
        managed: true,
      };
    case 'redis':
      return { address: `redis://${serviceHost(fc, 'redis')}:6379`, managed: true };
    case 'consul':
      return { address: `${serviceHost(fc, 'consul')}:8500`, managed: true };
    case 'rocketmq':
      // The broker's gRPC proxy (local mode, --enable-proxy).
      return { address: `${serviceHost(fc, 'rocketmq-broker')}:8081`, managed: true };
  }
}
