// What a registry-less node runs, as archives it imports (never pulls): the project's images
// (freechat/<service>:<chart appVersion>, the names the chart and a FreeChat default to) and the
// local images of the managed dependencies (freechat-local/*, scripts/containers/k8s-images.sh;
// k8s/samples/local-node.yaml names them). Built in the local Docker engine, started for the build
// if none answered and stopped again afterwards, so the node does not run beside it.
import path from 'node:path';
import { REPO_ROOT } from '../infra/paths.js';
import { buildProjectImages, IMAGE_TARGETS, mustRun, saveImages } from '../containers/project-images.js';

const CONTAINERS = path.join(REPO_ROOT, 'scripts/containers');

export interface NodeImages {
  /** Archives for `K8sNode.importImages`. */
  readonly archives: readonly string[];
  /** Image references, project images then local dependency images. */
  readonly images: readonly string[];
  readonly buildMs: number;
}

/** Builds (cached by BuildKit and recipe hashes) and saves every image into `outDir`. */
export async function prepareNodeImages(outDir: string, log: (message: string) => void = () => {}): Promise<NodeImages> {
  const engine = await mustRun(path.join(CONTAINERS, 'ensure-engine.sh'), []);
  const startedHere = /engine: started/.test(engine);
  try {
    const began = Date.now();
    const built = await buildProjectImages(IMAGE_TARGETS);
    log(`project images built in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const projectArchives = await saveImages(built.images as Record<string, string>, outDir);
    const local = (await mustRun(path.join(CONTAINERS, 'k8s-images.sh'), [outDir])).split('\n').filter((line) => line.startsWith('freechat-local/'));
    log(`images saved to ${outDir} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const localArchives = local.map((image) => path.join(outDir, `${/^freechat-local\/([^:]+):/.exec(image)![1]}.tar`));
    return { archives: [...projectArchives, ...localArchives], images: [...Object.values(built.images), ...local], buildMs: Date.now() - began };
  } finally {
    if (startedHere) await mustRun(path.join(CONTAINERS, 'stop-engine.sh'), []);
  }
}
