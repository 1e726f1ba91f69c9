// Errors @freechat/shared raises on purpose; callers match on the class, never on message text.

export interface ConfigIssue {
  /** Dotted path of the offending key, e.g. `engine.maxBatchSize`. */
  readonly path: string;
  readonly message: string;
  /** Environment variable the value came from, when it did not come from a file. */
  readonly fromEnv?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly service: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `invalid configuration for ${service}: ` +
        issues.map((i) => `${i.path}: ${i.message}${i.fromEnv ? ` (from ${i.fromEnv})` : ''}`).join('; '),
    );
  }
}
