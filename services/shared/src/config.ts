// Layered configuration: config/default.yaml < config/<service>.yaml < environment, validated once at start.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import { grpcTransportConfig } from './grpc-transport.js';
import { LOG_LEVELS } from './logger.js';
import { metricsConfig } from './telemetry/metrics.js';

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type Tree = Record<string, unknown>;

export interface LoadConfigOptions {
  /** Names the second file, `config/<service>.yaml`, and appears in errors. */
  readonly service: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Default: FREECHAT_CONFIG_DIR, else the repository's `config/` directory. */
  readonly configDir?: string;
  /** Environment variable name → dotted config path. Empty variables count as unset. */
  readonly envOverrides?: Readonly<Record<string, string>>;
  /** Defaults that depend on the environment (home directory, XDG paths); the files override them. */
  readonly computedDefaults?: Tree;
}

export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions): DeepReadonly<z.output<S>> {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? env['FREECHAT_CONFIG_DIR'] ?? findRepoConfigDir();
  const fromFiles = ['default', options.service].reduce<Tree>(
    (acc, name) => deepMerge(acc, readYamlFile(path.join(dir, `${name}.yaml`))),
    options.computedDefaults ?? {},
  );
  const envSources = new Map<string, string>();
  let merged = fromFiles;
  for (const [variable, dotted] of Object.entries(options.envOverrides ?? {})) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    merged = setPath(merged, dotted.split('.'), value);
    envSources.set(dotted, variable);
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(options.service, toIssues(result.error, envSources));
  }
  return deepFreeze(result.data) as DeepReadonly<z.output<S>>;
}

/** Later layers win; arrays and scalars replace, plain objects merge key by key. */
export function deepMerge(base: Tree, override: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function toIssues(error: z.ZodError, envSources: ReadonlyMap<string, string>): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    // Unknown keys are reported on their parent; name each one so typos in YAML are obvious.
    const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...base, k].join('.')) : [base.join('.')];
    return paths.map((p) => {
      const fromEnv = envSources.get(p);
      const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
      return fromEnv ? { path: p || '(root)', message, fromEnv } : { path: p || '(root)', message };
    });
  });
}

function readYamlFile(file: string): Tree {
  if (!existsSync(file)) return {};
  const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (parsed == null) return {};
  if (!isPlainObject(parsed)) {
    throw new ConfigError(path.basename(file, '.yaml'), [{ path: '(root)', message: `${file} is not a YAML mapping` }]);
  }
  return parsed;
}

function setPath(tree: Tree, keys: readonly string[], value: unknown): Tree {
  const [head, ...rest] = keys;
  if (head === undefined) return tree;
  const child = tree[head];
  return { ...tree, [head]: rest.length === 0 ? value : setPath(isPlainObject(child) ? child : {}, rest, value) };
}

function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Walks up from this file (src/ or dist/) to the first directory holding `config/default.yaml`. */
function findRepoConfigDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'config');
    if (existsSync(path.join(candidate, 'default.yaml'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('config directory not found: set FREECHAT_CONFIG_DIR');
    dir = parent;
  }
}

/** Keys every service has, from config/default.yaml: spread into each service's schema. */
export const serviceConfigBase = {
  shutdown: z.strictObject({ graceMs: z.coerce.number().int().min(0) }),
  log: z.strictObject({ level: z.enum(LOG_LEVELS) }),
  // Mutual TLS and message size limits of every internal gRPC connection (env: GRPC_TRANSPORT_ENV).
  ...grpcTransportConfig,
  // The /metrics endpoint's address (env: FREECHAT_<SERVICE>_METRICS_ADDRESS, see metricsEnv).
  ...metricsConfig,
};
