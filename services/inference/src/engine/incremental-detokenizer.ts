// Streams text from token ids without ever ending a delta inside a multi-byte character:
// byte-level BPE tokens can split a character, and decoding a lone fragment yields U+FFFD.
// The prefix/read offsets (as in TGI's decode_token) keep each step's decode small.
// NUL is dropped here, where every piece of generated text is born: a byte-level vocabulary can
// produce it, it is never meaningful in an answer, and PostgreSQL's text cannot store it. Every
// consumer (chat's runs, its title writer, any other caller) then gets text it can keep, and the
// streamed deltas stay equal to what is stored.

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
      const text = withoutNul(full.slice(prefix.length));
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
    return withoutNul(full.slice(prefix.length));
  }
}

const withoutNul = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '') : text);
