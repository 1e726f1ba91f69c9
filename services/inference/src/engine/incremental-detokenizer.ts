// Streams text from token ids without ever ending a delta inside a multi-byte character:
// byte-level BPE tokens can split a character, and decoding a lone fragment yields U+FFFD.
// The prefix/read offsets (as in TGI's decode_token) keep each step's decode small.

export type Decode = (ids: readonly number[]) => string;

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly decodeIds: Decode) {}

  private decode(ids: readonly number[]): string {
    return ids.length === 0 ? '' : this.decodeIds(ids);
  }

  /** Adds a token; returns the text it completes ('' while a character is still partial). */
  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const full = this.decode(this.ids.slice(this.prefixOffset));
    if (full.length > prefix.length && !full.endsWith('\uFFFD')) {
      const text = full.slice(prefix.length);
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return text;
    }
    return '';
  }

  /** Whatever is held back (an incomplete character at the very end is emitted as decoded). */
  flush(): string {
    const prefix = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const full = this.decode(this.ids.slice(this.prefixOffset));
    this.ids.length = 0;
    this.prefixOffset = 0;
    this.readOffset = 0;
    return full.slice(prefix.length);
  }
}
