// `npm run crd`: writes the CRD generated from freechat.ts where kubectl (k8s/crd/) and Helm
// (charts/freechat/crds/) read it, and the resource reference (docs/freechat-resource.md). A test fails while the committed files differ from it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFiles, referenceFile, renderCrdYaml } from './crd-files.js';
import { renderReference } from './reference.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const yaml = renderCrdYaml();
for (const file of crdFiles(root)) {
  writeFileSync(file, yaml);
  process.stdout.write(`wrote ${path.relative(root, file)}\n`);
}
writeFileSync(referenceFile(root), renderReference());
process.stdout.write(`wrote ${path.relative(root, referenceFile(root))}\n`);
