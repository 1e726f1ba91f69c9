// The Kubernetes clients the controller uses, made once from a KubeConfig (KUBECONFIG, else the
// pod's service account), and the one way API errors are read.
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  ApiextensionsV1Api,
} from '@kubernetes/client-node';

export interface Kube {
  readonly config: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  readonly apiextensions: ApiextensionsV1Api;
}

export function connect(config?: KubeConfig): Kube {
  const kc = config ?? new KubeConfig();
  if (!config) {
    kc.loadFromDefault();
    // Without KUBECONFIG, ~/.kube/config or a pod's service account the client falls back to
    // http://localhost:8080 and fails later with a TLS message that hides the cause.
    if (!process.env['KUBECONFIG'] && !process.env['KUBERNETES_SERVICE_HOST'] && kc.getCurrentCluster()?.server === 'http://localhost:8080') {
      throw new Error('no Kubernetes API configured: set KUBECONFIG, or run inside a cluster (a pod with a service account)');
    }
  }
  return {
    config: kc,
    objects: KubernetesObjectApi.makeApiClient(kc),
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    apiextensions: kc.makeApiClient(ApiextensionsV1Api),
  };
}

/** The HTTP status of a failed API call, if it was one. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown; statusCode?: unknown } | null)?.code ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A short, log- and status-friendly account of an API error: the server's message, not the whole response. */
export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === 'string' ? safeJson(error.body) : error.body;
    const message = (body as { message?: string } | undefined)?.message;
    return `${error.code}: ${message ?? String(error.body).slice(0, 300)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}
