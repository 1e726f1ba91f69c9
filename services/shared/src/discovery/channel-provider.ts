// The one way a Free Chat service calls another over gRPC. It follows the instances an InstanceSource
// reports (Consul's healthy ones, or the configured address), keeps one channel per instance, and
// hands out clients whose every call is sent to the instance the picker chooses at that moment.
// An instance that leaves gets no new calls and its channel is closed; grpc-js lets calls already
// running on a closed channel finish, so streams on a draining instance end there normally.
import type { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { createGrpcTransport, type GrpcTransport } from '../grpc-transport.js';
import { withTraceMetadata } from '../telemetry/tracing.js';
import type { GrpcMetrics } from '../telemetry/grpc-metrics.js';
import type { InstanceSource, ServiceInstance } from './instance-source.js';
import { pickInstance, type BalancingPolicy } from './picker.js';
import type { ServiceName } from './service-names.js';

export interface GrpcClientConstructor<C extends grpc.Client> {
  new (address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>): C;
  readonly service: grpc.ServiceDefinition;
}

/** A client's service methods without its channel management (the provider owns the channels). */
export type BalancedClient<C extends grpc.Client> = Omit<C, keyof grpc.Client>;

/** Thrown synchronously by a balanced client's method; shaped like grpc-js's UNAVAILABLE error. */
export class NoHealthyInstanceError extends Error implements grpc.ServiceError {
  override readonly name = 'NoHealthyInstanceError';
  readonly code = grpc.status.UNAVAILABLE;
  readonly details: string;
  readonly metadata = new grpc.Metadata();
  constructor(readonly service: ServiceName) {
    super(`no healthy instance of the ${service} service`);
    this.details = this.message;
  }
}

export interface InstanceStats {
  readonly id: string;
  readonly address: string;
  /** Calls sent and not finished. */
  readonly outstanding: number;
  /** Calls sent since the instance appeared. */
  readonly started: number;
  /** grpc-js connectivity state of its channel. */
  readonly state: string;
}

export interface ChannelProvider {
  /** "consul at host:port" or "static addresses". */
  readonly description: string;
  /** A client whose calls each go to one current instance of `service`; calls throw NoHealthyInstanceError when there is none. */
  client<C extends grpc.Client>(service: ServiceName, constructor: GrpcClientConstructor<C>): BalancedClient<C>;
  /** Resolves once the instances of `service` are known (the list may be empty). */
  synced(service: ServiceName): Promise<void>;
  /** The instances calls go to now, with their load (starts following `service` if not yet). */
  instances(service: ServiceName): readonly InstanceStats[];
  /** Stops watching and closes every channel. */
  close(): void;
}

export interface ChannelProviderOptions {
  readonly source: InstanceSource;
  readonly logger: Logger;
  /** Credentials (mTLS or plaintext) and message size limits of every channel. Default: plaintext, 4 MiB. */
  readonly transport?: GrpcTransport;
  /** Default: least-outstanding for inference (calls differ wildly in cost), round robin otherwise. */
  readonly policies?: Partial<Record<ServiceName, BalancingPolicy>>;
  /** Counts and times every call (freechat_grpc_client_*); from startServiceMetrics. */
  readonly metrics?: GrpcMetrics;
}

export const DEFAULT_POLICIES: Readonly<Record<ServiceName, BalancingPolicy>> = {
  auth: 'round-robin',
  chat: 'round-robin',
  gateway: 'round-robin',
  inference: 'least-outstanding',
};

interface LiveInstance extends ServiceInstance {
  readonly channel: grpc.Channel;
  readonly clients: Map<GrpcClientConstructor<grpc.Client>, grpc.Client>;
  outstanding: number;
  started: number;
}

interface WatchedService {
  /** Sorted by id, so round robin's order does not depend on Consul's. */
  instances: LiveInstance[];
  turn: number;
  readonly synced: Promise<void>;
  unsubscribe: () => void;
}

const FAILING = grpc.connectivityState.TRANSIENT_FAILURE;

/** grpc-js's words for a call that failed before any connection carried it. */
const neverSent = (error: grpc.ServiceError): boolean =>
  error.code === grpc.status.UNAVAILABLE && /^No connection established/.test(error.details ?? '');

export function createChannelProvider(options: ChannelProviderOptions): ChannelProvider {
  const { source, logger } = options;
  const transport = options.transport ?? createGrpcTransport();
  const policies = { ...DEFAULT_POLICIES, ...options.policies };
  const watched = new Map<ServiceName, WatchedService>();
  const balanced = new Map<ServiceName, Map<GrpcClientConstructor<grpc.Client>, unknown>>();
  let closed = false;

  const update = (service: ServiceName, entry: WatchedService, next: readonly ServiceInstance[]): void => {
    const current = new Map(entry.instances.map((instance) => [instance.id, instance]));
    const kept: LiveInstance[] = [];
    for (const wanted of next) {
      const existing = current.get(wanted.id);
      if (existing && existing.address === wanted.address) {
        kept.push(existing);
        current.delete(wanted.id);
      } else {
        kept.push({
          ...wanted,
          channel: new grpc.Channel(wanted.address, transport.channelCredentials(), transport.channelOptions),
          clients: new Map(),
          outstanding: 0,
          started: 0,
        });
      }
    }
    for (const gone of current.values()) gone.channel.close();
    kept.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const before = entry.instances.map((i) => i.id).join(',');
    entry.instances = kept;
    if (kept.map((i) => i.id).join(',') !== before) {
      logger.info({ service, instances: kept.map((i) => `${i.id}@${i.address}`) }, `${service}: ${kept.length} instance(s)`);
    }
  };

  const watch = (service: ServiceName): WatchedService => {
    let entry = watched.get(service);
    if (entry) return entry;
    let markSynced!: () => void;
    const synced = new Promise<void>((resolve) => (markSynced = resolve));
    const created: WatchedService = { instances: [], turn: 0, synced, unsubscribe: () => {} };
    entry = created;
    watched.set(service, created);
    if (closed) {
      markSynced();
      return created;
    }
    created.unsubscribe = source.subscribe(service, (instances) => {
      if (closed) return;
      update(service, created, instances);
      markSynced();
    });
    return created;
  };

  const pick = (service: ServiceName, exclude: ReadonlySet<string> = new Set()): LiveInstance | undefined => {
    const entry = watch(service);
    const instances = entry.instances.filter((instance) => !exclude.has(instance.id));
    const loads = instances.map((instance) => ({
      id: instance.id,
      outstanding: instance.outstanding,
      failing: instance.channel.getConnectivityState(false) === FAILING,
    }));
    const index = pickInstance(policies[service], loads, entry.turn++);
    return index === undefined ? undefined : instances[index];
  };

  const clientOf = <C extends grpc.Client>(instance: LiveInstance, constructor: GrpcClientConstructor<C>): C => {
    const key = constructor as unknown as GrpcClientConstructor<grpc.Client>;
    let client = instance.clients.get(key);
    if (!client) {
      // Every client of an instance shares its one channel (one connection per instance).
      client = new constructor(instance.address, transport.channelCredentials(), { channelOverride: instance.channel });
      instance.clients.set(key, client);
    }
    return client as C;
  };

  const send = <C extends grpc.Client>(instance: LiveInstance, constructor: GrpcClientConstructor<C>, method: string, args: unknown[]): EventEmitter => {
    const client = clientOf(instance, constructor) as unknown as Record<string, (...a: unknown[]) => EventEmitter>;
    const finished = options.metrics?.clientCall(constructor.service[method]!);
    const call = client[method]!.apply(client, args);
    instance.outstanding++;
    instance.started++;
    // Every grpc-js call, unary or streaming, emits `status` exactly once when it ends.
    call.once('status', (status: grpc.StatusObject) => {
      instance.outstanding--;
      finished?.(status.code);
    });
    return call;
  };

  const dispatch = <C extends grpc.Client>(service: ServiceName, constructor: GrpcClientConstructor<C>, method: string, args: unknown[]): unknown => {
    const instance = pick(service);
    if (!instance) throw new NoHealthyInstanceError(service);
    const definition = constructor.service[method]!;
    // The caller's trace context (W3C traceparent) travels in the call's metadata.
    args = withTraceMetadata(args, definition.requestStream);
    const callback = args.at(-1);
    if (definition.requestStream || definition.responseStream || typeof callback !== 'function') return send(instance, constructor, method, args);
    // A unary call that never reached its instance (a replica that just died still looks idle to
    // grpc-js until a connect fails) goes to the next instance: nothing was sent, so even a
    // non-idempotent call is safe to repeat. The deadline in `args` bounds all attempts together.
    const tried = new Set<string>();
    const attempt = (target: LiveInstance): EventEmitter => {
      tried.add(target.id);
      return send(target, constructor, method, [
        ...args.slice(0, -1),
        (error: grpc.ServiceError | null, response: unknown) => {
          const next = error && neverSent(error) ? pick(service, tried) : undefined;
          if (next) attempt(next);
          else (callback as (e: grpc.ServiceError | null, r: unknown) => void)(error, response);
        },
      ]);
    };
    // Cancelling the returned call cancels the first attempt only; unary callers here use deadlines.
    return attempt(instance);
  };

  return {
    description: source.description,
    client<C extends grpc.Client>(service: ServiceName, constructor: GrpcClientConstructor<C>): BalancedClient<C> {
      const key = constructor as unknown as GrpcClientConstructor<grpc.Client>;
      const ofService = balanced.get(service) ?? new Map<GrpcClientConstructor<grpc.Client>, unknown>();
      balanced.set(service, ofService);
      const cached = ofService.get(key);
      if (cached) return cached as BalancedClient<C>;
      watch(service);
      // Under both names grpc-js gives a method: the definition's key and its originalName (the
      // health service's keys are `Check`, its clients call `check`).
      const methods = Object.fromEntries(
        Object.entries(constructor.service).flatMap(([method, definition]) => {
          const call = (...args: unknown[]): unknown => dispatch(service, constructor, method, args);
          return definition.originalName ? [[method, call], [definition.originalName, call]] : [[method, call]];
        }),
      );
      ofService.set(key, methods);
      return methods as unknown as BalancedClient<C>;
    },
    synced: (service) => watch(service).synced,
    instances: (service) =>
      watch(service).instances.map((instance) => ({
        id: instance.id,
        address: instance.address,
        outstanding: instance.outstanding,
        started: instance.started,
        state: grpc.connectivityState[instance.channel.getConnectivityState(false)],
      })),
    close() {
      if (closed) return;
      closed = true;
      for (const entry of watched.values()) {
        entry.unsubscribe();
        for (const instance of entry.instances) instance.channel.close();
        entry.instances = [];
      }
    },
  };
}
