// Keeps the signed-in person's settings in step with the server: loads them once (the server wins
// over the cached copy, except for fields changed here meanwhile), saves each change after a short
// pause (only the fields that changed, so other settings, e.g. the language, are never overwritten)
// and caches what is shown for the next first paint. The decisions are settings.ts's pure functions.
import {
  addEdits,
  cacheSettings,
  editsAfterSave,
  hasEdits,
  settingsFrom,
  withEdits,
  type Settings,
  type SettingsEdits,
} from './settings';

export interface SettingsSyncOptions {
  /** GET /api/me/settings. */
  readonly load: () => Promise<unknown>;
  /** PATCH /api/me/settings with the changed fields; answers all of them. */
  readonly save: (edits: SettingsEdits) => Promise<unknown>;
  /** The settings to show changed because the server answered. */
  readonly onSettings: (settings: Settings) => void;
  /** A change could not be saved (it is kept and sent again with the next one). */
  readonly onSaveFailed: (error: unknown) => void;
  /** Pause after the last change before saving. */
  readonly delayMs?: number;
  readonly cache?: (settings: Settings) => void;
}

export class SettingsSync {
  private edits: SettingsEdits = {};
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** Answers apply in the order their requests went out: a slow GET never undoes a later save. */
  private requested = 0;
  private applied = 0;
  private stopped = false;

  constructor(
    private shown: Settings,
    private readonly options: SettingsSyncOptions,
  ) {}

  /** Asks the server once; a refusal or an older gateway leaves the cached settings in use. */
  start(): void {
    const seq = ++this.requested;
    this.options.load().then(
      (server) => this.adopt(seq, server),
      () => undefined,
    );
  }

  /** A change made here: shown and cached at once, saved after the pause. */
  change(next: Settings): void {
    this.edits = addEdits(this.edits, this.shown, next);
    this.show(next);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.delayMs ?? 500);
  }

  /** Saves what is waiting now (before logging out, or when the page is hidden). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    // One save at a time, so they reach the server in order; saveEdits never rejects.
    this.queue = this.queue.then(() => this.saveEdits());
    return this.queue;
  }

  /** No more saves or answers (signed out). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async saveEdits(): Promise<void> {
    if (!hasEdits(this.edits) || this.stopped) return;
    const sent = this.edits;
    const seq = ++this.requested;
    try {
      const server = await this.options.save(sent);
      this.edits = editsAfterSave(this.edits, sent);
      this.adopt(seq, server);
    } catch (error) {
      if (!this.stopped) this.options.onSaveFailed(error);
    }
  }

  private adopt(seq: number, server: unknown): void {
    if (this.stopped || seq <= this.applied) return;
    this.applied = seq;
    const next = withEdits(settingsFrom(server), this.edits);
    this.show(next);
    this.options.onSettings(next);
  }

  private show(settings: Settings): void {
    this.shown = settings;
    (this.options.cache ?? cacheSettings)(settings);
  }
}
