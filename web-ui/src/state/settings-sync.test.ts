import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings, type SettingsEdits } from './settings';
import { SettingsSync } from './settings-sync';

/** A server whose answers the test releases one by one. */
function fakeServer(initial: Settings) {
  let stored: Record<string, unknown> = { ...initial, language: 'fr' };
  const loads: (() => void)[] = [];
  const saves: { edits: SettingsEdits; answer: () => void; fail: () => void }[] = [];
  return {
    get stored() {
      return stored;
    },
    loads,
    saves,
    // The answer is what was stored when the request arrived; the test decides when it comes back.
    load: () => {
      const snapshot = { ...stored };
      return new Promise<unknown>((resolve) => loads.push(() => resolve(snapshot)));
    },
    save: (edits: SettingsEdits) =>
      new Promise<unknown>((resolve, reject) =>
        saves.push({
          edits,
          answer: () => {
            stored = { ...stored, ...edits };
            resolve({ ...stored });
          },
          fail: () => reject(new Error('offline')),
        }),
      ),
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function setUp(cached: Settings, server: ReturnType<typeof fakeServer>) {
  const shown: Settings[] = [];
  const cache: Settings[] = [];
  const failures: unknown[] = [];
  const sync = new SettingsSync(cached, {
    load: server.load,
    save: server.save,
    onSettings: (s) => shown.push(s),
    onSaveFailed: (e) => failures.push(e),
    delayMs: 5,
    cache: (s) => cache.push(s),
  });
  return { sync, shown, cache, failures };
}

describe('SettingsSync', () => {
  it('shows the server’s settings over the cached ones, and caches them', async () => {
    const server = fakeServer({ ...DEFAULT_SETTINGS, theme: 'dark', temperature: 1.2 });
    const { sync, shown, cache } = setUp(DEFAULT_SETTINGS, server);
    sync.start();
    server.loads[0]!();
    await tick();
    expect(shown).toEqual([{ ...DEFAULT_SETTINGS, theme: 'dark', temperature: 1.2 }]);
    expect(cache.at(-1)).toEqual(shown[0]);
  });

  it('keeps a change made before the server answered, and saves only the changed fields after the pause', async () => {
    const server = fakeServer({ ...DEFAULT_SETTINGS, theme: 'dark' });
    const { sync, shown } = setUp(DEFAULT_SETTINGS, server);
    sync.start();
    sync.change({ ...DEFAULT_SETTINGS, temperature: 0.2 });
    sync.change({ ...DEFAULT_SETTINGS, temperature: 0.3 });
    server.loads[0]!();
    await tick();
    expect(shown.at(-1)).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', temperature: 0.3 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // One save for both changes, the language untouched.
    expect(server.saves.map((s) => s.edits)).toEqual([{ temperature: 0.3 }]);
    server.saves[0]!.answer();
    await tick();
    expect(server.stored).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark', temperature: 0.3, language: 'fr' });
  });

  it('never lets a slow first answer undo a later save', async () => {
    const server = fakeServer(DEFAULT_SETTINGS);
    const { sync, shown } = setUp(DEFAULT_SETTINGS, server);
    sync.start();
    sync.change({ ...DEFAULT_SETTINGS, theme: 'light' });
    const flushed = sync.flush();
    await tick();
    server.saves[0]!.answer();
    await flushed;
    // The GET read the settings before the save reached the server, but its answer arrives after.
    server.loads[0]!();
    await tick();
    expect(shown.at(-1)).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
    expect(shown.every((s) => s.theme === 'light')).toBe(true);
  });

  it('keeps a change that failed to save and sends it with the next one', async () => {
    const server = fakeServer(DEFAULT_SETTINGS);
    const { sync, failures } = setUp(DEFAULT_SETTINGS, server);
    sync.change({ ...DEFAULT_SETTINGS, thinking: false });
    const first = sync.flush();
    await tick();
    server.saves[0]!.fail();
    await first;
    expect(failures).toHaveLength(1);
    sync.change({ ...DEFAULT_SETTINGS, thinking: false, maxTokens: 64 });
    const second = sync.flush();
    await tick();
    expect(server.saves[1]!.edits).toEqual({ thinking: false, maxTokens: 64 });
    server.saves[1]!.answer();
    await second;
    expect(server.stored).toMatchObject({ thinking: false, maxTokens: 64 });
  });
});
