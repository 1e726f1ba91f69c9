// One image of services/Dockerfile built on its own (scripts/containers/project-images.ts), for a
// test that runs it and removes it again: tagged per test process unless a tag is given.
import type { ImageTarget } from '../../scripts/containers/project-images.js';
import { buildProjectImages } from '../../scripts/containers/project-images.js';
import { run } from './stack.js';

export interface BuiltImage {
  /** `freechat/<target>:<tag>` */
  readonly image: string;
  readonly revision: string;
  /** Wall time of the build itself (base images and secrets not counted), in ms. */
  readonly buildMs: number;
  /** Removes the tag, and images of ours a rebuild left untagged; build layers stay cached. */
  remove(): Promise<void>;
}

export async function buildImage(target: ImageTarget, options: { readonly tag?: string } = {}): Promise<BuiltImage> {
  const built = await buildProjectImages([target], { tag: options.tag ?? `e2e-${process.pid}` });
  const image = built.images[target]!;
  return {
    image,
    revision: built.revision,
    buildMs: built.buildMs,
    async remove() {
      await run('docker', ['image', 'rm', image]);
      await run('docker', ['image', 'prune', '--force', '--filter', 'label=org.opencontainers.image.vendor=Free Chat']);
    },
  };
}
