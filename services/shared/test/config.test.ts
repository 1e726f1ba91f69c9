import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../src/index.js';

const schema = z.strictObject({
  listen: z.strictObject({ address: z.string().min(1) }),
  engine: z.strictObject({ maxBatchSize: z.coerce.number().int().positive(), threads: z.coerce.number().int().min(0) }),
  log: z.strictObject({ level: z.enum(['info', 'debug']) }),
});

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'freechat-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const defaults = 'log:\n  level: info\nengine:\n  maxBatchSize: 8\n  threads: 0\n';
const service = 'listen:\n  address: 127.0.0.1:1\nengine:\n  maxBatchSize: 4\n';
const envOverrides = { SVC_ADDRESS: 'listen.address', SVC_BATCH: 'engine.maxBatchSize' };

describe('loadConfig', () => {
  it('merges default.yaml under <service>.yaml key by key', () => {
    const dir = configDir({ 'default.yaml': defaults, 'svc.yaml': service });
    const config = loadConfig(schema, { service: 'svc', env: {}, configDir: dir });
    expect(config).toEqual({ listen: { address: '127.0.0.1:1' }, engine: { maxBatchSize: 4, threads: 0 }, log: { level: 'info' } });
  });

  it('lets declared environment variables win over both files, ignoring empty ones', () => {
    const dir = configDir({ 'default.yaml': defaults, 'svc.yaml': service });
    const env = { SVC_ADDRESS: '0.0.0.0:9', SVC_BATCH: '', UNDECLARED: 'x' };
    const config = loadConfig(schema, { service: 'svc', env, configDir: dir, envOverrides });
    expect(config.listen.address).toBe('0.0.0.0:9');
    expect(config.engine.maxBatchSize).toBe(4);
  });

  it('puts computed defaults under the files', () => {
    const dir = configDir({ 'default.yaml': defaults, 'svc.yaml': 'engine:\n  threads: 2\n' });
    const config = loadConfig(schema, {
      service: 'svc',
      env: {},
      configDir: dir,
      computedDefaults: { listen: { address: 'computed:1' }, engine: { threads: 7 } },
    });
    expect(config.listen.address).toBe('computed:1');
    expect(config.engine.threads).toBe(2);
  });

  it('finds the directory through FREECHAT_CONFIG_DIR', () => {
    const dir = configDir({ 'default.yaml': defaults, 'svc.yaml': service });
    const config = loadConfig(schema, { service: 'svc', env: { FREECHAT_CONFIG_DIR: dir } });
    expect(config.engine.maxBatchSize).toBe(4);
  });

  it('returns a deeply frozen object', () => {
    const dir = configDir({ 'default.yaml': defaults, 'svc.yaml': service });
    const config = loadConfig(schema, { service: 'svc', env: {}, configDir: dir });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.engine)).toBe(true);
  });

  it('names every bad key, why, and which variable set it', () => {
    const dir = configDir({ 'default.yaml': defaults, 'svc.yaml': 'engine:\n  maxBatchSize: 4\n  thread: 1\nlog:\n  level: loud\n' });
    const load = () =>
      loadConfig(schema, { service: 'svc', env: { SVC_BATCH: 'many' }, configDir: dir, envOverrides });
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      const e = error as ConfigError;
      const paths = e.issues.map((i) => i.path).sort();
      expect(paths).toEqual(['engine.maxBatchSize', 'engine.thread', 'listen', 'log.level']);
      expect(e.message).toContain('engine.maxBatchSize');
      expect(e.message).toContain('(from SVC_BATCH)');
      expect(e.message).toContain('engine.thread: unknown key');
      expect(e.message).toMatch(/log\.level: .+/);
      expect(e.message.startsWith('invalid configuration for svc')).toBe(true);
    }
  });
});
