// A streaming Server-Sent Events parser (the WHATWG event-stream format). Bytes may arrive split
// anywhere, even inside a UTF-8 character or between "\r" and "\n": nothing is emitted until a
// line is complete, and partial lines are kept across reads (the original lost tokens there).

export interface SseFrame {
  /** The last event id seen (ids persist across events, as in the spec). */
  readonly id: string;
  /** "message" when the frame named none. */
  readonly event: string;
  readonly data: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** A chunk ended in "\r": a "\n" starting the next chunk belongs to the same line break. */
  private skipLeadingLf = false;
  private lastId = '';
  private eventType = '';
  private dataLines: string[] = [];

  /** Feeds one chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array | string): SseFrame[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.skipLeadingLf && text.length > 0) {
      if (text.startsWith('\n')) text = text.slice(1);
      this.skipLeadingLf = false;
    }
    this.buffer += text;
    const frames: SseFrame[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < this.buffer.length) next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        else {
          next = cr + 1;
          this.skipLeadingLf = true;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      const frame = this.line(this.buffer.slice(start, end));
      if (frame) frames.push(frame);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return frames;
  }

  private line(line: string): SseFrame | undefined {
    if (line === '') {
      const data = this.dataLines;
      const event = this.eventType || 'message';
      this.dataLines = [];
      this.eventType = '';
      return data.length === 0 ? undefined : { id: this.lastId, event, data: data.join('\n') };
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    return undefined;
  }
}
