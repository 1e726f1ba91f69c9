// The FreeChat CRD as generated from its one schema: committed copies in sync, a schema the API
// server accepts as structural, defaults that make a whole spec from `spec: {}`, and samples that
// are valid. (Admission by a real API server, CEL rules included, is the operator issue's test.)
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from 'typebox/value';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { freeChatCrd } from '../src/api/crd.js';
import { crdFiles, referenceFile, renderCrdYaml } from '../src/api/crd-files.js';
import { renderReference } from '../src/api/reference.js';
import { FreeChatSpecSchema, GROUP, KIND, VERSION } from '../src/api/freechat.js';

const root = path.resolve(import.meta.dirname, '../..');
const openApi = (freeChatCrd() as any).spec.versions[0].schema.openAPIV3Schema;

/** Every node of a schema with its JSON path, int-or-string's two branches left out. */
function* nodes(schema: any, at = ''): Generator<[string, any]> {
  yield [at, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* nodes(child, `${at}.${name}`);
  if (schema.items) yield* nodes(schema.items, `${at}[]`);
  if (typeof schema.additionalProperties === 'object') yield* nodes(schema.additionalProperties, `${at}{}`);
}

const sampleFiles = readdirSync(path.join(root, 'k8s/samples')).filter((f) => f.endsWith('.yaml'));
const withDefaults = (spec: unknown) => Value.Default(FreeChatSpecSchema, structuredClone(spec));

describe('the FreeChat CRD', () => {
  it('is committed exactly as `npm run crd` generates it, for kubectl and for Helm', () => {
    for (const file of crdFiles(root)) expect(readFileSync(file, 'utf8'), path.relative(root, file)).toBe(renderCrdYaml());
  });

  it('has its reference (docs/freechat-resource.md) committed as `npm run crd` generates it, every spec field and condition in it', () => {
    const text = readFileSync(referenceFile(root), 'utf8');
    expect(text, 'run `npm run crd`').toBe(renderReference());
    for (const [at] of nodes(openApi.properties.spec, 'spec')) if (at !== 'spec' && !at.includes('[]') && !at.includes('{}')) expect(text).toContain(`| \`${at}\` |`);
    for (const type of ['Ready', 'GatewayReady', 'InferenceReady', 'RocketMQReady']) expect(text).toContain(`| \`${type}\` |`);
  });

  it('has a structural schema: a type on every node, enums not const/anyOf, maps as additionalProperties', () => {
    for (const [at, node] of nodes(openApi)) {
      if (node['x-kubernetes-int-or-string']) {
        expect(node.anyOf, at).toEqual([{ type: 'integer' }, { type: 'string' }]);
        continue;
      }
      expect(node.type, `${at || '(root)'} has no type`).toMatch(/^(object|array|string|integer|number|boolean)$/);
      for (const forbidden of ['const', 'anyOf', 'oneOf', 'allOf', 'patternProperties', '$ref', '$id']) expect(node, `${at}: ${forbidden}`).not.toHaveProperty(forbidden);
    }
  });

  it('names the scale subresource’s paths on fields the schema has, and the printer columns kubectl shows', () => {
    const version = (freeChatCrd() as any).spec.versions[0];
    expect(version.subresources.scale.specReplicasPath).toBe('.spec.inference.replicas');
    expect(openApi.properties.spec.properties.inference.properties.replicas.type).toBe('integer');
    expect(openApi.properties.status.properties.inference.properties.selector.type).toBe('string');
    expect(version.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual(['Ready', 'Reason', 'Inference', 'URL', 'Age']);
    expect((freeChatCrd() as any).spec.names.shortNames).toEqual(['fc']);
  });

  it('carries the CEL rules that refuse a wrong resource by naming the field', () => {
    const rules = [...nodes(openApi)].flatMap(([at, node]) => (node['x-kubernetes-validations'] ?? []).map((r: { message: string }) => `${at}: ${r.message}`));
    expect(rules).toEqual(
      expect.arrayContaining([
        '.spec.gateway.ingress: an enabled ingress needs a host',
        '.spec.inference.autoscaling: minReplicas must not exceed maxReplicas',
        '.spec.inference.model: a huggingface model needs a repo',
        '.spec.inference.model: a pvc model needs a claimName',
        '.spec.postgres: set exactly one of managed and external for PostgreSQL',
        '.spec.rocketmq: set exactly one of managed and external for RocketMQ',
      ]),
    );
  });

  it('turns `spec: {}` into a whole, valid spec through its defaults', () => {
    const spec = withDefaults({}) as any;
    expect(Value.Check(FreeChatSpecSchema, spec)).toBe(true);
    expect(spec.gateway).toMatchObject({ replicas: 2, service: { type: 'ClusterIP', port: 80 }, ingress: { enabled: false } });
    expect(spec.inference).toMatchObject({ replicas: 1, autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 4 }, model: { source: 'builtin', variant: 'model' } });
    expect(spec.postgres).toEqual({ managed: { image: 'postgres:17-bookworm' } });
    expect(spec.security).toEqual({ mtls: true, networkPolicies: true });
  });

  it('refuses what its types refuse: a negative replica count, an unknown pull policy, a model source it does not know', () => {
    for (const bad of [{ gateway: { replicas: -1 } }, { images: { pullPolicy: 'Sometimes' } }, { inference: { model: { source: 's3' } } }]) {
      expect(Value.Check(FreeChatSpecSchema, withDefaults(bad)), JSON.stringify(bad)).toBe(false);
    }
  });

  it.each(sampleFiles)('sample %s is a valid FreeChat', (file) => {
    const resource = parse(readFileSync(path.join(root, 'k8s/samples', file), 'utf8'));
    expect(resource.apiVersion).toBe(`${GROUP}/${VERSION}`);
    expect(resource.kind).toBe(KIND);
    const spec = withDefaults(resource.spec);
    expect([...Value.Errors(FreeChatSpecSchema, spec)].map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
  });
});
