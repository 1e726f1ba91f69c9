// Where the generated CRD lives in the repository, and its YAML text.
import path from 'node:path';
import { stringify } from 'yaml';
import { freeChatCrd } from './crd.js';

export const crdFiles = (root: string): string[] => [path.join(root, 'k8s/crd/freechat.dev_freechats.yaml'), path.join(root, 'charts/freechat/crds/freechat.dev_freechats.yaml')];

export const renderCrdYaml = (): string =>
  `# Generated from operator/src/api/freechat.ts by \`npm run crd\`: edit that file, not this one.\n${stringify(freeChatCrd(), { lineWidth: 0 })}`;

/** The generated resource reference. */
export const referenceFile = (root: string): string => path.join(root, 'docs/freechat-resource.md');
