// The chat configuration: config/chat.yaml is valid, the environment overrides it, mistakes name the key.
import { ConfigError } from '@freechat/shared';
import { describe, expect, it } from 'vitest';
import { loadChatConfig } from '../src/config.js';

describe('loadChatConfig', () => {
  it('reads config/chat.yaml with its documented defaults', () => {
    const config = loadChatConfig({ env: { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/freechat' } });
    expect(config.listen.address).toBe('127.0.0.1:50052');
    expect(config.upstreams.inference).toBe('127.0.0.1:50053');
    expect(config.runs).toMatchObject({ logRetentionSeconds: 600, flushIntervalMs: 1000, systemPrompt: '' });
    expect(config.runs.maxPromptTokens).toBeGreaterThan(0);
    expect(config.shutdown.graceMs).toBeGreaterThan(0);
  });

  it('takes addresses, the database and the prompt budget from the environment', () => {
    const config = loadChatConfig({
      env: {
        DATABASE_URL: 'postgres://db/x',
        FREECHAT_CHAT_ADDRESS: '0.0.0.0:6000',
        FREECHAT_INFERENCE_ADDRESS: 'inference:50053',
        FREECHAT_CHAT_MAX_PROMPT_TOKENS: '2000',
        FREECHAT_LOG_LEVEL: 'debug',
      },
    });
    expect([config.database.url, config.listen.address, config.upstreams.inference, config.runs.maxPromptTokens, config.log.level]).toEqual([
      'postgres://db/x',
      '0.0.0.0:6000',
      'inference:50053',
      2000,
      'debug',
    ]);
  });

  it('requires DATABASE_URL and names it', () => {
    let error: unknown;
    try {
      loadChatConfig({ env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toContain('database.url');
  });

  it('names a bad value and the variable it came from', () => {
    expect(() => loadChatConfig({ env: { DATABASE_URL: 'x', FREECHAT_CHAT_ADDRESS: 'nowhere' } })).toThrow(
      /listen\.address: expected host:port \(from FREECHAT_CHAT_ADDRESS\)/,
    );
  });
});
