// An engine whose streams pass through a transform, everything else delegated: how tests (and any
// future filter) reshape what a real engine emits without copying its lifecycle.
import type { Engine, GenerationEvent, GenerationRequest } from './types.js';

export type GenerateTransform = (request: GenerationRequest, inner: Engine) => AsyncIterable<GenerationEvent>;

export function withGenerate(inner: Engine, generate: GenerateTransform): Engine {
  return {
    get model() {
      return inner.model;
    },
    get kvCache() {
      return inner.kvCache;
    },
    get activeCount() {
      return inner.activeCount;
    },
    drain: () => inner.drain(),
    idle: () => inner.idle(),
    close: () => inner.close(),
    generate: (request) => generate(request, inner),
  };
}
