// GetSettings and UpdateSettings end to end: real PostgreSQL, a real gRPC server and client, the
// caller named only by its access token.
import { status as Status } from '@grpc/grpc-js';
import { Theme, type UserSettings } from '@freechat/proto/freechat/auth/v1/auth';
import { createLogger } from '@freechat/shared';
import { createPool, startThrowawayPostgres, type RunningPostgres } from '@freechat/shared/postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthServer, type AuthServerHandle } from '../src/server.js';
import { authClient, refusal, type AuthApi } from './support/auth-client.js';
import { testConfig } from './support/config.js';

const logger = createLogger({ service: 'auth-test', level: 'silent' });
let postgres: RunningPostgres;
let db: pg.Pool;
let server: AuthServerHandle;
let client: AuthApi;
let users = 0;

/** A new account's access token and id. */
async function newUser(): Promise<{ token: string; id: string }> {
  const { user, tokens } = await client.register(`settings_${process.pid}_${++users}`, 'correct horse battery');
  return { token: tokens!.accessToken, id: user!.id };
}

const DEFAULTS: UserSettings = { thinking: true, temperature: 0.7, maxTokens: 1024, theme: Theme.THEME_SYSTEM, language: undefined };
/** Settings as a reply carries them: the temperature is a 32-bit proto float (the gateway shows the decimal again). */
const wire = (settings: UserSettings): UserSettings => ({ ...settings, temperature: Math.fround(settings.temperature!) });

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  db = createPool({ url: postgres.url, applicationName: 'auth-settings-test' });
  server = await startAuthServer({ config: testConfig({ databaseUrl: postgres.url }), logger });
  await server.ready;
  client = authClient(server.address);
});
afterAll(async () => {
  client?.close();
  await server?.close();
  await db?.end();
  await postgres?.stop();
});

describe('user settings', () => {
  it('answers the defaults to someone who never saved any, without storing a row', async () => {
    const { token, id } = await newUser();
    expect(await client.getSettings(token)).toEqual(wire(DEFAULTS));
    const { rows } = await db.query('SELECT 1 FROM auth.user_settings WHERE user_id = $1', [id]);
    expect(rows).toHaveLength(0);
  });

  it('merges each update into what was saved and returns all of it', async () => {
    const { token, id } = await newUser();
    expect(await client.updateSettings(token, { temperature: 1.3, theme: Theme.THEME_UNSPECIFIED })).toEqual(wire({ ...DEFAULTS, temperature: 1.3 }));
    expect(await client.updateSettings(token, { thinking: false, theme: Theme.THEME_DARK })).toEqual(
      wire({ ...DEFAULTS, temperature: 1.3, thinking: false, theme: Theme.THEME_DARK }),
    );
    const both = { ...DEFAULTS, temperature: 1.3, thinking: false, theme: Theme.THEME_DARK, maxTokens: 256, language: 'zh-CN' };
    expect(await client.updateSettings(token, { maxTokens: 256, language: 'zh-cn', theme: Theme.THEME_UNSPECIFIED })).toEqual(wire(both));
    expect(await client.getSettings(token)).toEqual(wire(both));
    // Stored as typed (not the float32 the proto carried) and as a document of the given fields only.
    const { rows } = await db.query<{ settings: unknown }>('SELECT settings FROM auth.user_settings WHERE user_id = $1', [id]);
    expect(rows[0]!.settings).toEqual({ temperature: 1.3, thinking: false, theme: 'dark', maxTokens: 256, language: 'zh-CN' });
    // An empty language forgets it; nothing else moves.
    expect(await client.updateSettings(token, { language: '', theme: Theme.THEME_UNSPECIFIED })).toEqual(wire({ ...both, language: undefined }));
  });

  it('keeps each person’s settings their own', async () => {
    const ada = await newUser();
    const bob = await newUser();
    await client.updateSettings(ada.token, { temperature: 0.1, theme: Theme.THEME_LIGHT });
    expect(await client.getSettings(bob.token)).toEqual(wire(DEFAULTS));
    await client.updateSettings(bob.token, { maxTokens: 64, theme: Theme.THEME_UNSPECIFIED });
    expect(await client.getSettings(ada.token)).toEqual(wire({ ...DEFAULTS, temperature: 0.1, theme: Theme.THEME_LIGHT }));
  });

  it('refuses values out of range with INVALID_ARGUMENT naming the field, and changes nothing', async () => {
    const { token } = await newUser();
    await client.updateSettings(token, { temperature: 0.5, theme: Theme.THEME_UNSPECIFIED });
    const cases: [UserSettings, string][] = [
      [{ temperature: 2.5, theme: Theme.THEME_UNSPECIFIED }, 'temperature: must be between 0 and 2'],
      [{ temperature: -1, theme: Theme.THEME_UNSPECIFIED }, 'temperature: must be between 0 and 2'],
      [{ maxTokens: 0, theme: Theme.THEME_UNSPECIFIED }, 'max_tokens: must be an integer from 1 to 32768'],
      [{ maxTokens: 40_000, theme: Theme.THEME_UNSPECIFIED }, 'max_tokens: must be an integer from 1 to 32768'],
      [{ theme: 7 as Theme }, 'theme: must be system, light or dark'],
      [{ language: 'Klingon please', theme: Theme.THEME_UNSPECIFIED }, 'language: must be a language tag such as "en" or "zh-CN"'],
      // One bad field refuses the whole update.
      [{ thinking: false, maxTokens: 0, theme: Theme.THEME_DARK }, 'max_tokens: must be an integer from 1 to 32768'],
    ];
    for (const [settings, details] of cases) {
      expect(await refusal(client.updateSettings(token, settings))).toEqual({ code: Status.INVALID_ARGUMENT, details });
    }
    expect(await client.getSettings(token)).toEqual(wire({ ...DEFAULTS, temperature: 0.5 }));
  });

  it('answers only a caller with a valid access token', async () => {
    for (const call of [client.getSettings(undefined), client.updateSettings(undefined, { thinking: false, theme: Theme.THEME_UNSPECIFIED }), client.getSettings('not-a-token')]) {
      expect((await refusal(call)).code).toBe(Status.UNAUTHENTICATED);
    }
  });
});
