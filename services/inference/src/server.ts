// Composition of the inference service: gRPC + health first, then the model, then SERVING.
import { createDiscovery, bindGrpcServer, createGrpcServer, createGrpcTransport, createWallClock, startServiceMetrics, type Logger } from '@freechat/shared';
import { InferenceServiceClient, InferenceServiceService } from '@freechat/proto/freechat/inference/v1/inference';
import type { InferenceConfig } from './config.js';
import { createOnnxEngine } from './engine/index.js';
import type { Engine, EngineObserver } from './engine/types.js';
import { createInferenceHandlers } from './grpc-handlers.js';
import { inferenceMetrics } from './metrics.js';
import { planModelSource, resolveModel, type ResolvedModel } from './model-source.js';

/** `observer` receives the engine's timings for metrics; a factory may ignore it. */
export type EngineFactory = (model: ResolvedModel, config: InferenceConfig, logger: Logger, observer?: EngineObserver) => Promise<Engine>;
export type ModelResolver = (config: InferenceConfig, logger: Logger) => Promise<ResolvedModel>;

export interface StartInferenceServerOptions {
  readonly config: InferenceConfig;
  readonly logger: Logger;
  readonly engineFactory?: EngineFactory;
  /** Default: plan from config, then download or build. Tests hold it back to observe NOT_SERVING. */
  readonly modelResolver?: ModelResolver;
}

export interface InferenceServerHandle {
  /** `host:port` actually bound (port 0 in config becomes a real port). */
  readonly address: string;
  readonly port: number;
  /** Resolves once the model is loaded and health reports SERVING; rejects if loading failed. */
  readonly ready: Promise<void>;
  /** `http://host:port/metrics`, or undefined when metrics.address is empty. */
  readonly metricsUrl: string | undefined;
  engine(): Engine | undefined;
  /** NOT_SERVING, let running streams finish (up to shutdown.graceMs), stop gRPC, release the model. */
  close(): Promise<void>;
}

export const defaultModelResolver: ModelResolver = (config, logger) => resolveModel(planModelSource(config.model), { logger });

export const defaultEngineFactory: EngineFactory = (model, config, logger, observer) =>
  createOnnxEngine({
    modelDir: model.dir,
    id: model.id,
    source: model.source,
    variant: model.variant,
    // 0 in the config: no bound.
    limits: { ...config.engine, kvCacheBudgetBytes: config.engine.kvCacheBudgetBytes || undefined },
    prefillChunkTokens: config.engine.prefillChunkTokens,
    prefixCacheBytes: config.engine.prefixCacheBytes,
    intraOpThreads: config.engine.intraOpThreads,
    threadSpinning: config.engine.threadSpinning,
    logger: logger.child({ component: 'engine' }),
    ...(observer && { observer }),
  });

export async function startInferenceServer(options: StartInferenceServerOptions): Promise<InferenceServerHandle> {
  const { config, logger } = options;
  const engineFactory = options.engineFactory ?? defaultEngineFactory;
  const modelResolver = options.modelResolver ?? defaultModelResolver;
  let engine: Engine | undefined;
  let closing = false;

  const transport = createGrpcTransport(config.grpc, 'inference');
  const metrics = await startServiceMetrics({ service: 'inference', config: config.metrics, logger });
  const observed = inferenceMetrics(metrics.registry);
  const grpc = createGrpcServer({
    logger,
    transport,
    metrics: metrics.grpc,
    services: [
      {
        name: InferenceServiceClient.serviceName,
        definition: InferenceServiceService,
        implementation: createInferenceHandlers({ engine: () => engine, logger, clock: createWallClock(), metrics: observed }),
      },
    ],
  });
  const { port, address } = await bindGrpcServer(grpc, config.listen.address, () => metrics.close());
  logger.info({ address }, 'listening; NOT_SERVING until the model is loaded');
  const discovery = createDiscovery({ config: config.discovery, service: 'inference', logger, transport });

  const ready = (async () => {
    const model = await modelResolver(config, logger);
    const created = await engineFactory(model, config, logger, observed);
    if (closing) {
      await created.close();
      return;
    }
    engine = created;
    grpc.setServing(true);
    logger.info({ model: created.model.id, source: created.model.source, dir: created.model.path }, 'model loaded; SERVING');
    // Only now: a model load can outlast Consul's deregister-after, which would drop the entry.
    await discovery.register({ listenAddress: address, check: grpc.healthCheck(), tags: [created.model.source] });
  })();
  // Callers await `ready`; this only keeps a failed load from also being an unhandled rejection.
  ready.catch(() => {});

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing = true;
    closed ??= (async () => {
      // Out of the catalog first, so callers stop picking this instance while it still answers.
      await discovery.deregister();
      await grpc.shutdown({ drain: async () => engine?.drain(), graceMs: config.shutdown.graceMs });
      await engine?.close();
      discovery.close();
      await metrics.close();
    })();
    return closed;
  };

  return { address, port, ready, metricsUrl: metrics.url, engine: () => engine, close };
}
