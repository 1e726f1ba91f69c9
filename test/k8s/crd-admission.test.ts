// The FreeChat CRD (k8s/crd/, generated from operator/src/api/freechat.ts) on a real kube-apiserver:
// it installs, the samples are admitted and read back defaulted exactly as the schema's own defaults
// say, wrong resources are refused with the field and the CEL rule's message, and the scale
// subresource and printer columns work through kubectl. operator/test/crd.test.ts checks the same
// schema offline; this is what the API server really does with it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FreeChatSpecSchema, GROUP, KIND, PLURAL, VERSION } from '../../operator/src/api/freechat.js';
import { REPO_ROOT } from '../../scripts/infra/paths.js';
import { applyCrd, CRD_NAME, kubectl, kubectlJson, withNamespace, type TestNamespace } from './cluster.js';

const SAMPLES = path.join(REPO_ROOT, 'k8s/samples');
const sampleFiles = readdirSync(SAMPLES).filter((file) => file.endsWith('.yaml'));

interface Resource {
  metadata: { name: string; namespace?: string };
  spec: Record<string, any>;
}

/** What the API server should store for `spec`: the schema's defaults applied (TypeBox, offline). */
const defaulted = (spec: unknown): unknown => Value.Default(FreeChatSpecSchema, structuredClone(spec ?? {}));

/** A FreeChat as `kubectl apply -f -` takes it (JSON is YAML). */
const freeChat = (name: string, namespace: string, spec: unknown): string =>
  JSON.stringify({ apiVersion: `${GROUP}/${VERSION}`, kind: KIND, metadata: { name, namespace }, spec });

/** The Error kubectl failed with (its stderr), or a test failure when it succeeded. */
async function refusal(run: Promise<string>): Promise<string> {
  const outcome = await run.then(
    (stdout) => ({ ok: true as const, stdout }),
    (error: unknown) => ({ ok: false as const, message: error instanceof Error ? error.message : String(error) }),
  );
  if (outcome.ok) throw new Error(`accepted, expected a refusal: ${outcome.stdout}`);
  return outcome.message;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let ns: TestNamespace;

beforeAll(async () => {
  await applyCrd();
  ns = await withNamespace();
});

afterAll(async () => {
  await ns?.cleanup();
});

describe('the FreeChat CRD on a real API server', () => {
  it('installs and becomes Established; `kubectl get fc` (the short name) lists FreeChats', async () => {
    const crd = await kubectlJson<{ spec: { names: { shortNames: string[] } }; status: { conditions: { type: string; status: string }[] } }>(['get', 'crd', CRD_NAME]);
    expect(crd.status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    expect(crd.spec.names.shortNames).toEqual(['fc']);
    const list = await kubectlJson<{ kind: string; items: unknown[] }>(['get', 'fc', '-n', ns.name]);
    expect(list).toMatchObject({ kind: 'List', items: [] });
  });

  it.each(sampleFiles)('sample %s is admitted (server-side apply, server dry run, then for real) and reads back with the schema’s defaults filled in', async (file) => {
    const sample = parse(readFileSync(path.join(SAMPLES, file), 'utf8')) as Resource;
    const expected = defaulted(sample.spec);
    // Each sample in a namespace of its own: they all name their FreeChat `freechat`.
    const own = await withNamespace();
    try {
      const apply = ['apply', '--server-side', '--field-manager=freechat-tests', '-n', own.name, '-f', path.join(SAMPLES, file)];
      const dryRun = await kubectlJson<Resource>([...apply, '--dry-run=server']);
      expect(dryRun.spec).toEqual(expected);
      expect(await kubectl(['get', 'fc', '-n', own.name, '-o', 'name'])).toBe('');

      await kubectl(apply);
      const stored = await kubectlJson<Resource>(['get', 'fc', sample.metadata.name, '-n', own.name]);
      expect(stored.spec).toEqual(expected);
    } finally {
      await own.cleanup();
    }
  });

  it('minimal.yaml (`spec: {}`) is stored as a whole spec: gateway 2 replicas, image tag 0.1.0, inference 1 replica of the built-in model, every dependency managed', async () => {
    await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], { input: freeChat('minimal', ns.name, {}) });
    const { spec } = await kubectlJson<Resource>(['get', 'fc', 'minimal', '-n', ns.name]);
    expect(spec['gateway']).toMatchObject({ replicas: 2, service: { type: 'ClusterIP', port: 80 }, ingress: { enabled: false } });
    expect(spec['images']).toMatchObject({ registry: 'freechat', tag: '0.1.0', pullPolicy: 'IfNotPresent', pullSecrets: [] });
    expect(spec['inference']).toMatchObject({ replicas: 1, autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 4 }, model: { source: 'builtin' } });
    for (const dependency of ['postgres', 'redis', 'consul', 'rocketmq']) {
      // `managed` only; what it holds besides is the schema's (defaults the operator reads).
      expect(Object.keys(spec[dependency]), dependency).toEqual(['managed']);
      expect(spec[dependency].managed, dependency).toEqual((defaulted({}) as Record<string, any>)[dependency].managed);
    }
    expect(spec['security']).toEqual({ mtls: true, networkPolicies: true });
  });

  // The API server's own words: `<field>: <Invalid value|Unsupported value>: …<message>`.
  const invalid: { what: string; spec: Record<string, unknown>; field: string; message: string }[] = [
    {
      what: 'inference.autoscaling minReplicas above maxReplicas',
      spec: { inference: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } } },
      field: 'spec.inference.autoscaling.minReplicas',
      message: 'minReplicas must not exceed maxReplicas',
    },
    {
      what: 'postgres both managed and external',
      spec: { postgres: { managed: {}, external: { address: 'postgres.databases.svc:5432' } } },
      field: 'spec.postgres',
      message: 'set exactly one of managed and external for PostgreSQL',
    },
    { what: 'postgres neither managed nor external (`{}`)', spec: { postgres: {} }, field: 'spec.postgres', message: 'set exactly one of managed and external for PostgreSQL' },
    {
      what: 'a huggingface model without repo',
      spec: { inference: { model: { source: 'huggingface' } } },
      field: 'spec.inference.model.repo',
      message: 'a huggingface model needs a repo',
    },
    { what: 'a pvc model without claimName', spec: { inference: { model: { source: 'pvc' } } }, field: 'spec.inference.model.claimName', message: 'a pvc model needs a claimName' },
    { what: 'an enabled ingress without host', spec: { gateway: { ingress: { enabled: true } } }, field: 'spec.gateway.ingress.host', message: 'an enabled ingress needs a host' },
    { what: 'a negative replica count', spec: { gateway: { replicas: -1 } }, field: 'spec.gateway.replicas', message: 'should be greater than or equal to 0' },
    {
      what: 'an unknown pull policy',
      spec: { images: { pullPolicy: 'Sometimes' } },
      field: 'spec.images.pullPolicy',
      message: 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    },
  ];

  for (const [index, { what, spec, field, message }] of invalid.entries()) {
    it(`refuses ${what}, naming ${field}: “${message}”`, async () => {
      const name = `invalid-${index}`;
      const error = await refusal(kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], { input: freeChat(name, ns.name, spec) }));
      expect(error).toContain(`The ${KIND} "${name}" is invalid`);
      // The field and the message on one line of the API server's answer.
      expect(error).toMatch(new RegExp(`${escape(field)}: [^\\n]*${escape(message)}`));
      expect((await kubectl(['get', 'fc', '-n', ns.name, '-o', 'name'])).split('\n')).not.toContain(`${PLURAL}.${GROUP}/${name}`);
    });
  }

  it.each(['Strict', 'Warn', 'Ignore'])(
    'refuses an unknown field under spec with server-side apply even at field validation %s (the schema is structural: “.spec.bogus: field not declared in schema”)',
    async (level) => {
      const error = await refusal(
        kubectl(['apply', '--server-side', `--validate=${level.toLowerCase()}`, '-n', ns.name, '-f', '-'], { input: freeChat('unknown-apply', ns.name, { bogus: 1 }) }),
      );
      expect(error).toContain('.spec.bogus: field not declared in schema');
    },
  );

  it('a create (not apply) with an unknown field under spec: refused at field validation Strict (“unknown field "spec.bogus"”), pruned by the API server at Ignore', async () => {
    const input = freeChat('unknown-create', ns.name, { bogus: 1 });
    const error = await refusal(kubectl(['create', '--validate=strict', '-f', '-'], { input }));
    expect(error).toContain('strict decoding error: unknown field "spec.bogus"');

    await kubectl(['create', '--validate=ignore', '-f', '-'], { input });
    const stored = await kubectlJson<Resource>(['get', 'fc', 'unknown-create', '-n', ns.name]);
    expect(stored.spec).not.toHaveProperty('bogus');
    expect(stored.spec).toEqual(defaulted({}));
  });

  it('`kubectl scale fc/NAME --replicas=3` sets spec.inference.replicas (the scale subresource)', async () => {
    await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], { input: freeChat('scaled', ns.name, {}) });
    expect(await kubectl(['scale', 'fc/scaled', '-n', ns.name, '--replicas=3'])).toContain('scaled');
    const { spec } = await kubectlJson<Resource>(['get', 'fc', 'scaled', '-n', ns.name]);
    expect(spec['inference'].replicas).toBe(3);
    const scale = await kubectlJson<{ kind: string; spec: { replicas: number } }>(['get', 'fc', 'scaled', '-n', ns.name, '--subresource=scale']);
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 3 } });
  });

  it('`kubectl get fc` prints the printer columns: Ready, Reason, Inference, URL, Age', async () => {
    await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], { input: freeChat('columns', ns.name, {}) });
    const table = await kubectl(['get', 'fc', 'columns', '-n', ns.name]);
    const [header, row] = table.trim().split('\n');
    expect(header!.trim().split(/\s+/)).toEqual(['NAME', 'READY', 'REASON', 'INFERENCE', 'URL', 'AGE']);
    expect(row).toMatch(/^columns\s/);
  });
});
