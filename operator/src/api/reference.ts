// docs/freechat-resource.md: every field of the FreeChat resource with its type, default, rules and
// description, rendered from the CRD's own schema (so the docs cannot drift from what the API
// server enforces). `npm run crd` writes it; a test fails while the committed file differs.
import { freeChatCrd } from './crd.js';
import { CONDITION_DOCS } from './conditions.js';

type Node = Record<string, any>;

function typeOf(node: Node): string {
  if (node['x-kubernetes-int-or-string']) return 'int or string';
  if (node['enum']) return (node['enum'] as string[]).map((v) => `\`${v}\``).join(' \\| ');
  if (node['type'] === 'array') return `array of ${node['items']?.['type'] ?? 'object'}`;
  if (node['type'] === 'object' && node['additionalProperties']) return 'map of string';
  return String(node['type']);
}

function bounds(node: Node): string[] {
  const notes: string[] = [];
  if (node['minimum'] !== undefined) notes.push(`≥ ${node['minimum']}`);
  if (node['maximum'] !== undefined) notes.push(`≤ ${node['maximum']}`);
  if (node['minLength'] !== undefined) notes.push(`at least ${node['minLength']} character(s)`);
  if (node['pattern']) notes.push(`matches \`${node['pattern']}\``);
  for (const rule of (node['x-kubernetes-validations'] ?? []) as { message: string }[]) notes.push(`rule: ${rule.message}`);
  return notes;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function* rows(node: Node, at: string): Generator<string> {
  for (const [name, child] of Object.entries((node['properties'] ?? {}) as Record<string, Node>)) {
    const field = `${at}.${name}`;
    const isLeaf = !child['properties'];
    const fallback = child['default'] === undefined || !isLeaf ? '' : `\`${JSON.stringify(child['default'])}\``;
    const description = [String(child['description'] ?? '').replace(/\.$/, ''), ...bounds(child)].filter(Boolean).join('; ');
    yield `| \`${field}\` | ${typeOf(child)} | ${fallback} | ${cell(description)} |`;
    yield* rows(child, field);
  }
}

export function renderReference(): string {
  const crd = freeChatCrd() as Node;
  const version = crd['spec']['versions'][0];
  const schema = version['schema']['openAPIV3Schema'] as Node;
  return [
    '<!-- Generated from operator/src/api/freechat.ts by `npm run crd`: edit that file, not this one. -->',
    '# The FreeChat resource',
    '',
    `\`${crd['spec']['group']}/${version['name']}\`, kind \`${crd['spec']['names']['kind']}\`, namespaced, short name \`fc\`. One resource is one`,
    'whole Free Chat: the operator creates and keeps everything it needs in the same namespace.',
    '',
    ...((schema['x-kubernetes-validations'] ?? []) as { message: string }[]).map((rule) => `- ${rule.message}.`),
    '',
    '## Spec',
    '',
    'Every field is optional: what is left out takes its default (objects are defaulted member by member).',
    '',
    '| Field | Type | Default | Description and rules |',
    '|---|---|---|---|',
    ...rows(schema['properties']['spec'], 'spec'),
    '',
    '## Status conditions',
    '',
    '| Condition | True when | Reasons when not |',
    '|---|---|---|',
    ...CONDITION_DOCS.map((c) => `| \`${c.type}\` | ${cell(c.trueWhen)} | ${cell(c.reasons)} |`),
    '',
    '`kubectl get fc` prints Ready, Reason (of Ready), Inference (replicas), URL and Age. `kubectl scale',
    'fc/NAME --replicas=N` sets `spec.inference.replicas` (the scale subresource; an HPA can target it too).',
    '',
  ].join('\n');
}
