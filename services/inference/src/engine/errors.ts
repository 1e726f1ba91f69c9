// Errors the engine raises on purpose; the gRPC layer maps each to one status code.

export class InvalidArgumentError extends Error {
  override readonly name = 'InvalidArgumentError';
  constructor(
    /** Dotted path of the offending request field, e.g. `sampling.top_p` or `messages[2].role`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export class ResourceExhaustedError extends Error {
  override readonly name = 'ResourceExhaustedError';
}

export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}
