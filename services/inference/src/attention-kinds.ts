// The built-in builder's attention kinds, written to config.json as `freechat.attention`: the builder
// chooses a graph by them and the engine a KV cache layout, so both read this one list.

export type AttentionKind = 'standard' | 'gqa' | 'read-cache';

/** Kinds whose cache is one preallocated buffer per layer that passes write into at each row's offset. */
export function sharesCacheBuffer(kind: string | undefined): boolean {
  return kind === 'gqa' || kind === 'read-cache';
}
