// A small image for the real node without a registry or Docker engine: the machine's own Node.js
// binary and the shared libraries ldd lists, in a one-layer archive (scripts/k8s/image-archive.sh)
// that the node imports. Enough for `node -e` servers and clients (DNS through glibc's built-in
// resolver and the resolv.conf the kubelet mounts).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { K8S_SCRIPTS } from '../../scripts/k8s/control-plane.js';

export function buildNodeImage(ref: string, out: string): void {
  const rootfs = mkdtempSync(path.join(tmpdir(), 'node-image-'));
  try {
    const node = realpathSync(execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim());
    const add = (file: string, target = file): void => {
      mkdirSync(path.join(rootfs, path.dirname(target)), { recursive: true });
      copyFileSync(realpathSync(file), path.join(rootfs, target));
    };
    add(node, '/usr/bin/node');
    for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
      const lib = /(\/\S+) \(0x/.exec(line)?.[1];
      if (lib) add(lib);
    }
    mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
    mkdirSync(path.join(rootfs, 'tmp'));
    chmodSync(path.join(rootfs, 'tmp'), 0o1777);
    chmodSync(rootfs, 0o755); // mkdtemp made it 0700: it becomes the container's /
    writeFileSync(path.join(rootfs, 'etc/nsswitch.conf'), 'hosts: files dns\n');
    writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/false\n');
    execFileSync(path.join(K8S_SCRIPTS, 'image-archive.sh'), [rootfs, ref, out, '["/usr/bin/node"]']);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}
