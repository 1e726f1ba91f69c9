// `kubectl port-forward` from the host to a Service or pod of a real node, as a person runs it: a
// free local port, the forward's process stopped by close().
import { spawn } from 'node:child_process';
import type { K8sNode } from '../../scripts/k8s/node.js';

export interface PortForward {
  readonly url: string;
  readonly port: number;
  close(): void;
}

/** `kubectl port-forward [-n NAMESPACE] TARGET :REMOTE_PORT`, resolved once the local port is known. */
export async function portForward(node: K8sNode, target: string, remotePort: number, namespace?: string): Promise<PortForward> {
  const args = [`--kubeconfig=${node.kubeconfig}`, ...(namespace ? ['-n', namespace] : []), 'port-forward', target, `:${remotePort}`];
  const forward = spawn(node.kubectl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  forward.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      forward.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /127\.0\.0\.1:(\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      forward.once('exit', (code) => reject(new Error(`port-forward exited ${code}: ${out}`)));
      setTimeout(() => reject(new Error(`no port-forward within 20 s: ${out}`)), 20_000);
    });
    return { url: `http://127.0.0.1:${port}`, port, close: () => void forward.kill() };
  } catch (error) {
    forward.kill();
    throw error;
  }
}
