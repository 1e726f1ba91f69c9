// `make k8s-node-up` (= `make k8s-up K8S_NODE=real`) / `make k8s-node-down`: the real single-node
// cluster (node.ts) for a person, state and logs in .data/k8s-node/, outliving the command. `up`
// reports a node already running; `down` tears down the node the machine marker names (also one
// a crashed run left), in the recipe's order, and says what could not be undone. `up` first builds
// and imports Free Chat's images (node-images.ts); FREECHAT_K8S_NODE_IMAGES=0 starts a bare node.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../infra/paths.js';
import { markedNode, nodeRunning, startNode, teardownNode } from './node.js';
import { prepareNodeImages } from './node-images.js';

const dataDir = path.join(process.env['FREECHAT_DATA_DIR'] || path.join(REPO_ROOT, '.data'));
const stateDir = path.join(dataDir, 'k8s-node');
const envFile = path.join(stateDir, 'k8s.env');
const binDir = path.join(stateDir, 'bin');
// Outside stateDir, which a start empties: unchanged images are not saved again.
const imagesDir = path.join(dataDir, 'k8s-node-images');
const log = (message: string): void => void process.stderr.write(`[k8s-node] ${message}\n`);

async function up(): Promise<void> {
  const marked = markedNode();
  if (marked && nodeRunning(marked)) {
    if (marked.stateDir !== stateDir) throw new Error(`a node started elsewhere runs (state in ${marked.stateDir})`);
    log('already up');
    process.stdout.write(`export KUBECONFIG=${marked.kubeconfig}\n`);
    return;
  }
  const images = process.env['FREECHAT_K8S_NODE_IMAGES'] === '0' ? undefined : await prepareNodeImages(imagesDir, log);
  const node = await startNode({ stateDir, keepAlive: true, log });
  if (images) {
    node.importImages(images.archives);
    log(`imported ${images.images.join(', ')}`);
  }
  rmSync(binDir, { recursive: true, force: true });
  mkdirSync(binDir, { recursive: true });
  symlinkSync(node.kubectl, path.join(binDir, 'kubectl'));
  symlinkSync(node.helm, path.join(binDir, 'helm'));
  writeFileSync(envFile, `# Written by \`make k8s-node-up\`; source it (set -a; . ${path.relative(REPO_ROOT, envFile)}).\nKUBECONFIG=${node.kubeconfig}\nKUBECTL=${node.kubectl}\nHELM=${node.helm}\n`);
  process.stdout.write(`export KUBECONFIG=${node.kubeconfig}\n`);
  log(`API server ${node.server}, node ${node.nodeName} Ready in ${(node.timings.nodeReadyMs / 1000).toFixed(1)} s, CoreDNS in ${(node.timings.dnsReadyMs / 1000).toFixed(1)} s`);
  log(`kubectl and helm linked in ${binDir}; more images: ctr --address ${stateDir}/containerd/containerd.sock -n k8s.io images import X.tar (imagePullPolicy: Never)`);
  log('`make k8s-node-down` tears it down');
}

async function down(): Promise<void> {
  const state = markedNode();
  if (!state) {
    log('nothing to stop');
    return;
  }
  const started = Date.now();
  const problems = await teardownNode(state, log);
  rmSync(envFile, { force: true });
  if (problems.length) {
    log(`left behind: ${problems.join('; ')}`);
    process.exitCode = 1;
  } else log(`torn down in ${((Date.now() - started) / 1000).toFixed(1)} s; the machine is as before`);
}

const command = process.argv[2];
try {
  if (command === 'up') await up();
  else if (command === 'down') await down();
  else {
    process.stderr.write('usage: node-cli.ts up|down\n');
    process.exitCode = 2;
  }
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
